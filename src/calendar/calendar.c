/* calendar.c — loads the yearly holiday files (data/holidays/<yyyy>, format in the README there)
 * into an immutable struct sifa_calendar and answers working-day queries. Layer: calendar.
 * Invariants: every entry of a file lies in that file's year (make-up days may lie in the last
 * December or next January); no date is listed twice across all loaded files; the per-day table
 * spans first_year-01-01 .. last_year-12-31 and a query that touches a day of a year without a
 * file fails with calendar_year_missing, never falls back to weekends. Input (files, text) is
 * bounded by SIFA_CALENDAR_MAX_FILE_BYTES and SIFA_CALENDAR_MAX_LINE_BYTES and is validated
 * byte by byte (no NUL, valid UTF-8); it never reaches an assert. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <assert.h>

#include "base/common.h"

#include "calendar/calendar.h"

struct entry {
    int64_t first, last; /* day numbers, both included */
    uint8_t kind;        /* SIFA_CALENDAR_HOLIDAY or SIFA_CALENDAR_MAKEUP */
    uint32_t line;
    uint32_t file;       /* index into the loader's labels; meaningless after loading */
    char *name;          /* owned */
};

struct sifa_calendar {
    int first_year, last_year;
    int64_t base;        /* day number of first_year-01-01 */
    int64_t ndays;       /* days from base to last_year-12-31, both included */
    bool *covered;       /* [last_year - first_year + 1] */
    uint32_t *day_entry; /* [ndays]: index into entries + 1, 0 for an ordinary day */
    struct entry *entries;
    size_t nentries;
};

/* Everything a load collects before the calendar is built. */
struct loader {
    struct entry *entries;
    size_t nentries, cap;
    char **labels; /* file names for messages, one per loaded file */
    size_t nlabels;
    int *years;    /* the year of each label */
};

static void loader_release(struct loader *ld)
{
    for (size_t i = 0; i < ld->nentries; i++)
        free(ld->entries[i].name);
    free(ld->entries);
    for (size_t i = 0; i < ld->nlabels; i++)
        free(ld->labels[i]);
    free(ld->labels);
    free(ld->years);
    memset(ld, 0, sizeof(*ld));
}

static size_t loader_add_file(struct loader *ld, const char *label, int year)
{
    ld->labels = sifa_xrealloc(ld->labels, (ld->nlabels + 1) * sizeof(*ld->labels));
    ld->years = sifa_xrealloc(ld->years, (ld->nlabels + 1) * sizeof(*ld->years));
    ld->labels[ld->nlabels] = sifa_xstrdup(label);
    ld->years[ld->nlabels] = year;
    return ld->nlabels++;
}

static void loader_add_entry(struct loader *ld, const struct entry *e)
{
    if (ld->nentries == ld->cap) {
        ld->cap = ld->cap ? ld->cap * 2 : 32;
        ld->entries = sifa_xrealloc(ld->entries, ld->cap * sizeof(*ld->entries));
    }
    ld->entries[ld->nentries++] = *e;
}

/* ---- Errors ------------------------------------------------------------------------------- */

/* "label:line: message" with details {"file", "line"}; line 0 means the whole file. */
__attribute__((format(printf, 6, 7))) static int load_error(struct sifa_error *err, int status, const char *code,
                                                            const char *label, uint32_t line, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *details = line > 0 ? json_pack("{s:s, s:i}", "file", label, "line", (json_int_t)line)
                               : json_pack("{s:s}", "file", label);
    if (line > 0)
        return sifa_error_set_details(err, status, code, details, "%s:%lu: %s", label, (unsigned long)line, msg);
    return sifa_error_set_details(err, status, code, details, "%s: %s", label, msg);
}

static int year_missing(struct sifa_error *err, int year, int32_t date)
{
    if (err == NULL)
        return SIFA_EUNAVAILABLE;
    return sifa_error_set_details(err, SIFA_EUNAVAILABLE, "calendar_year_missing", json_pack("{s:i}", "year", year),
                                  "没有 %d 年的节假日安排数据，无法判断 %ld 是否为工作日；请在 data/holidays/ 中添加 %d 年的文件",
                                  year, (long)date, year);
}

static int range_error(struct sifa_error *err, const char *what, long value)
{
    return sifa_error_set(err, SIFA_EINVALID, "calendar_range", "%s %ld 超出允许范围（0 至 %d）", what, value,
                          SIFA_CALENDAR_MAX_COUNT);
}

/* ---- Parsing one file --------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses exactly "YYYY-MM-DD" at p (10 bytes available). 1 = well-formed digits (the date may
 * still be impossible: *ret_date is the raw yyyymmdd), 0 = malformed. */
static bool parse_ymd(const char *p, int32_t *ret_date)
{
    static const char shape[] = "dddd-dd-dd";
    int32_t v = 0;
    for (size_t i = 0; i < 10; i++) {
        if (shape[i] == '-') {
            if (p[i] != '-')
                return false;
        } else {
            if (p[i] < '0' || p[i] > '9')
                return false;
            v = v * 10 + (p[i] - '0');
        }
    }
    *ret_date = v;
    return true;
}

#define DATE_BUF 16

/* "YYYY-MM-DD" for a yyyymmdd value that parse_ymd accepted (non-negative). */
static void format_date(int32_t date, char buf[static DATE_BUF])
{
    uint32_t v = (uint32_t)date;
    snprintf(buf, DATE_BUF, "%04u-%02u-%02u", v / 10000 % 10000, v / 100 % 100, v % 100);
}

static const char *weekday_name(int wd)
{
    static const char *const names[] = {"一", "二", "三", "四", "五", "六", "日"};
    return wd >= 1 && wd <= 7 ? names[wd - 1] : "?";
}

/* Per-file duplicate detection: the line that listed each day from December of year−1 through
 * January of year+1 (every day an entry may name). */
#define SEEN_DAYS (31 + 366 + 31)

struct file_ctx {
    struct loader *ld;
    const char *label;
    size_t file;
    int year;
    int64_t seen_base; /* day number of (year−1)-12-01 */
    uint32_t seen[SEEN_DAYS];
    size_t holidays;
};

/* Parses one date token (a single date or, when allow_range, "first..last"). */
static int parse_dates(struct file_ctx *fc, uint32_t line, const char *tok, size_t toklen, bool allow_range,
                       int32_t *ret_first, int32_t *ret_last, struct sifa_error *err)
{
    int32_t first = 0, last = 0;
    if (toklen == 10) {
        if (!parse_ymd(tok, &first))
            goto syntax;
        last = first;
    } else if (toklen == 22 && tok[10] == '.' && tok[11] == '.') {
        if (!parse_ymd(tok, &first) || !parse_ymd(tok + 12, &last))
            goto syntax;
        if (!allow_range)
            return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line,
                              "调休上班日（workday）只能写单个日期，每天一行");
    } else {
        goto syntax;
    }
    char buf[DATE_BUF];
    if (!sifa_calendar_date_valid(first) || !sifa_calendar_date_valid(last)) {
        format_date(sifa_calendar_date_valid(first) ? last : first, buf);
        return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line, "日期 %s 不存在", buf);
    }
    *ret_first = first;
    *ret_last = last;
    return 0;
syntax:
    return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line,
                      allow_range ? "日期格式错误，应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"
                                  : "日期格式错误，应为 YYYY-MM-DD");
}

static int parse_line(struct file_ctx *fc, uint32_t line, const char *s, size_t n, struct sifa_error *err)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    if (i == n || s[i] == '#')
        return 0;

    size_t kw = i;
    while (i < n && !is_space(s[i]))
        i++;
    uint8_t kind;
    if (i - kw == 7 && memcmp(s + kw, "holiday", 7) == 0)
        kind = SIFA_CALENDAR_HOLIDAY;
    else if (i - kw == 7 && memcmp(s + kw, "workday", 7) == 0)
        kind = SIFA_CALENDAR_MAKEUP;
    else
        return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line,
                          "无法识别的行，应以 holiday（放假）或 workday（调休上班）开头，或以 # 开头作注释");

    while (i < n && is_space(s[i]))
        i++;
    size_t tok = i;
    while (i < n && !is_space(s[i]))
        i++;
    if (i == tok)
        return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line, "缺少日期");
    int32_t first = 0, last = 0;
    int r = parse_dates(fc, line, s + tok, i - tok, kind == SIFA_CALENDAR_HOLIDAY, &first, &last, err);
    if (r < 0)
        return r;

    while (i < n && is_space(s[i]))
        i++;
    size_t name = i, name_end = n;
    while (name_end > name && is_space(s[name_end - 1]))
        name_end--;
    if (name_end == name)
        return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line, "日期后缺少名称（如“国庆节”）");
    if (name_end - name > SIFA_CALENDAR_MAX_NAME_BYTES)
        return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line, "名称超过 %d 字节",
                          SIFA_CALENDAR_MAX_NAME_BYTES);
    for (size_t k = name; k < name_end; k++)
        if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
            return load_error(err, SIFA_EINVALID, "calendar_syntax", fc->label, line, "名称中含有控制字符");

    char a[DATE_BUF], b[DATE_BUF];
    format_date(first, a);
    format_date(last, b);
    int64_t d0, d1;
    r = sifa_calendar_date_to_days(first, &d0, NULL);
    assert(r == 0); /* validated by parse_dates */
    r = sifa_calendar_date_to_days(last, &d1, NULL);
    assert(r == 0);
    (void)r;
    if (kind == SIFA_CALENDAR_HOLIDAY) {
        if (first / 10000 != fc->year || last / 10000 != fc->year)
            return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line,
                              "放假日期 %s 不在 %d 年内；跨年的放假请按日期写进各自年份的文件",
                              first / 10000 != fc->year ? a : b, fc->year);
        if (d1 < d0)
            return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line, "日期范围 %s..%s 的结束早于开始",
                              a, b);
        if (d1 - d0 + 1 > SIFA_CALENDAR_MAX_SPAN_DAYS)
            return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line, "放假区间 %s..%s 超过 %d 天", a,
                              b, SIFA_CALENDAR_MAX_SPAN_DAYS);
        fc->holidays++;
    } else {
        int y = first / 10000, m = first / 100 % 100;
        if (!(y == fc->year || (y == fc->year - 1 && m == 12) || (y == fc->year + 1 && m == 1)))
            return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line,
                              "调休上班日 %s 不在 %d 年内，也不在相邻的 %d 年12月或 %d 年1月", a, fc->year,
                              fc->year - 1, fc->year + 1);
        int wd = sifa_calendar_date_weekday(first);
        if (wd < 6)
            return load_error(err, SIFA_EINVALID, "calendar_date", fc->label, line,
                              "调休上班日 %s 是星期%s，只有星期六或星期日才需要写调休上班", a, weekday_name(wd));
    }

    for (int64_t d = d0; d <= d1; d++) {
        int64_t off = d - fc->seen_base;
        assert(off >= 0 && off < SEEN_DAYS); /* guaranteed by the year checks above */
        if (fc->seen[off] != 0) {
            char dup[DATE_BUF];
            int32_t date = 0;
            (void)sifa_calendar_date_from_days(d, &date, NULL);
            format_date(date, dup);
            return load_error(err, SIFA_EINVALID, "calendar_duplicate", fc->label, line, "日期 %s 已在第 %lu 行出现",
                              dup, (unsigned long)fc->seen[off]);
        }
        fc->seen[off] = line;
    }

    struct entry e = {
        .first = d0,
        .last = d1,
        .kind = kind,
        .line = line,
        .file = (uint32_t)fc->file,
        .name = sifa_xstrndup(s + name, name_end - name),
    };
    loader_add_entry(fc->ld, &e);
    return 0;
}

static int check_year(struct sifa_error *err, const char *label, int year)
{
    if (year < SIFA_CALENDAR_MIN_YEAR || year > SIFA_CALENDAR_MAX_YEAR)
        return load_error(err, SIFA_EINVALID, "calendar_date", label, 0, "年份 %d 超出支持范围（%d 至 %d）", year,
                          SIFA_CALENDAR_MIN_YEAR, SIFA_CALENDAR_MAX_YEAR);
    return 0;
}

static int parse_file(struct loader *ld, int year, const char *label, const char *text, size_t len,
                      struct sifa_error *err)
{
    int r = check_year(err, label, year);
    if (r < 0)
        return r;
    if (len > SIFA_CALENDAR_MAX_FILE_BYTES)
        return load_error(err, SIFA_ELIMIT, "calendar_limit", label, 0, "文件超过 %d 字节",
                          SIFA_CALENDAR_MAX_FILE_BYTES);

    /* Large (about 1.7 KiB): heap, not stack, so that fuzzing and threads stay cheap. */
    struct file_ctx *fc = sifa_xcalloc(1, sizeof(*fc));
    fc->ld = ld;
    fc->label = label;
    fc->year = year;
    fc->file = loader_add_file(ld, label, year);
    r = sifa_calendar_date_to_days((year - 1) * 10000 + 1201, &fc->seen_base, err);
    assert(r == 0); /* year was range-checked */

    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark, as some Windows editors write */
    uint32_t line = 0;
    while (pos < len && r >= 0) {
        line++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (n > SIFA_CALENDAR_MAX_LINE_BYTES) {
            r = load_error(err, SIFA_ELIMIT, "calendar_limit", label, line, "行长超过 %d 字节",
                           SIFA_CALENDAR_MAX_LINE_BYTES);
            break;
        }
        for (size_t k = 0; k < n;) {
            size_t step = start[k] == '\0' ? 0 : utf8_seq((const unsigned char *)start + k, n - k);
            if (step == 0) {
                r = load_error(err, SIFA_EINVALID, "calendar_syntax", label, line,
                               start[k] == '\0' ? "含有 NUL 字符" : "不是有效的 UTF-8 文本");
                break;
            }
            k += step;
        }
        if (r >= 0)
            r = parse_line(fc, line, start, n, err);
    }
    if (r >= 0 && fc->holidays == 0)
        r = load_error(err, SIFA_EINVALID, "calendar_syntax", label, 0,
                       "文件中没有任何放假（holiday）行；每年的文件必须写明当年的放假安排");
    free(fc);
    return r < 0 ? r : 0;
}

/* ---- Building the calendar ---------------------------------------------------------------- */

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void calendar_free_parts(struct sifa_calendar *cal)
{
    for (size_t i = 0; i < cal->nentries; i++)
        free(cal->entries[i].name);
    free(cal->entries);
    free(cal->covered);
    free(cal->day_entry);
    free(cal);
}

static int loader_finish(struct loader *ld, struct sifa_calendar **ret_cal, struct sifa_error *err)
{
    assert(ld->nlabels > 0);
    int first = ld->years[0], last = ld->years[0];
    for (size_t i = 1; i < ld->nlabels; i++) {
        if (ld->years[i] < first)
            first = ld->years[i];
        if (ld->years[i] > last)
            last = ld->years[i];
    }
    if (last - first >= SIFA_CALENDAR_MAX_YEARS)
        return load_error(err, SIFA_ELIMIT, "calendar_limit", ld->labels[0], 0,
                          "年份跨度 %d 至 %d 超过 %d 年", first, last, SIFA_CALENDAR_MAX_YEARS);

    struct sifa_calendar *cal = sifa_xcalloc(1, sizeof(*cal));
    cal->first_year = first;
    cal->last_year = last;
    int64_t end;
    int r = sifa_calendar_date_to_days(first * 10000 + 101, &cal->base, NULL);
    r |= sifa_calendar_date_to_days((last + 1) * 10000 + 101, &end, NULL);
    assert(r == 0);
    (void)r;
    cal->ndays = end - cal->base;
    cal->covered = sifa_xcalloc((size_t)(last - first + 1), sizeof(*cal->covered));
    for (size_t i = 0; i < ld->nlabels; i++)
        cal->covered[ld->years[i] - first] = true;
    cal->day_entry = sifa_xcalloc((size_t)cal->ndays, sizeof(*cal->day_entry));

    /* Entries outside the table (a make-up day in an uncovered neighbouring year) can never be
     * asked about; they were checked for duplicates within their own file. */
    for (size_t i = 0; i < ld->nentries; i++) {
        const struct entry *e = &ld->entries[i];
        for (int64_t d = e->first; d <= e->last; d++) {
            if (d < cal->base || d >= end)
                continue;
            uint32_t *slot = &cal->day_entry[d - cal->base];
            if (*slot != 0) {
                const struct entry *o = &ld->entries[*slot - 1];
                char buf[DATE_BUF];
                int32_t date = 0;
                (void)sifa_calendar_date_from_days(d, &date, NULL);
                format_date(date, buf);
                calendar_free_parts(cal); /* has no entries yet: they still belong to the loader */
                return load_error(err, SIFA_EINVALID, "calendar_duplicate", ld->labels[e->file], e->line,
                                  "日期 %s 已在 %s 第 %lu 行出现", buf, ld->labels[o->file], (unsigned long)o->line);
            }
            *slot = (uint32_t)(i + 1);
        }
    }

    /* Hand the entries over to the calendar. */
    cal->entries = ld->entries;
    cal->nentries = ld->nentries;
    ld->entries = NULL;
    ld->nentries = ld->cap = 0;
    *ret_cal = cal;
    return 0;
}

int sifa_calendar_load_text(int year, const char *text, size_t len, struct sifa_calendar **ret_cal,
                            struct sifa_error *err)
{
    assert(ret_cal != NULL);
    assert(text != NULL || len == 0);
    char label[16];
    snprintf(label, sizeof(label), "%d", year);
    struct loader ld = {0};
    int r = parse_file(&ld, year, label, len ? text : "", len, err);
    if (r >= 0)
        r = loader_finish(&ld, ret_cal, err);
    loader_release(&ld);
    return r < 0 ? r : 0;
}

static int io_error(struct sifa_error *err, const char *label, const char *what, int errnum)
{
    const char *why = errnum == ENOENT    ? "不存在"
                      : errnum == EACCES  ? "没有访问权限"
                      : errnum == ENOTDIR ? "不是目录"
                      : errnum == EISDIR  ? "是目录"
                                          : "读写错误";
    return load_error(err, errnum == ENOENT ? SIFA_ENOTFOUND : SIFA_EINTERNAL, "calendar_io", label, 0,
                      "无法读取%s：%s（errno %d）", what, why, errnum);
}

/* Reads a whole year file, at most SIFA_CALENDAR_MAX_FILE_BYTES. */
static int read_year_file(const char *path, char **ret_buf, size_t *ret_len, struct sifa_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return io_error(err, path, "节假日文件", errno);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return io_error(err, path, "节假日文件", e);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return io_error(err, path, "节假日文件", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
    }
    if (st.st_size > SIFA_CALENDAR_MAX_FILE_BYTES) {
        close(fd);
        return load_error(err, SIFA_ELIMIT, "calendar_limit", path, 0, "文件超过 %d 字节",
                          SIFA_CALENDAR_MAX_FILE_BYTES);
    }
    /* One byte more than allowed, to notice a file that grew after fstat. */
    size_t cap = SIFA_CALENDAR_MAX_FILE_BYTES + 1, len = 0;
    char *buf = sifa_xmalloc(cap);
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return io_error(err, path, "节假日文件", e);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len > SIFA_CALENDAR_MAX_FILE_BYTES) {
        free(buf);
        return load_error(err, SIFA_ELIMIT, "calendar_limit", path, 0, "文件超过 %d 字节",
                          SIFA_CALENDAR_MAX_FILE_BYTES);
    }
    *ret_buf = buf;
    *ret_len = len;
    return 0;
}

static bool is_year_name(const char *name)
{
    for (size_t i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    return name[4] == '\0';
}

/* The years named by the files in dir, sorted. */
static int list_years(const char *dir, int **ret_years, size_t *ret_count, struct sifa_error *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return io_error(err, dir, "节假日目录", errno);
    int *years = NULL;
    size_t count = 0;
    int r = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                r = io_error(err, dir, "节假日目录", errno);
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' || strcmp(name, "README.md") == 0 || strcmp(name, "README") == 0)
            continue;
        if (!is_year_name(name)) {
            r = load_error(err, SIFA_EINVALID, "calendar_syntax", dir, 0,
                           "文件名 “%.64s” 无法识别：年份文件应以四位年份命名（如 2021）", name);
            break;
        }
        if (count == SIFA_CALENDAR_MAX_YEARS) {
            r = load_error(err, SIFA_ELIMIT, "calendar_limit", dir, 0, "年份文件超过 %d 个",
                           SIFA_CALENDAR_MAX_YEARS);
            break;
        }
        years = sifa_xrealloc(years, (count + 1) * sizeof(*years));
        years[count++] = (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0');
    }
    closedir(d);
    if (r >= 0 && count == 0)
        r = load_error(err, SIFA_ENOTFOUND, "calendar_io", dir, 0, "目录中没有任何年份文件（如 2021）");
    if (r < 0) {
        free(years);
        return r;
    }
    qsort(years, count, sizeof(*years), compare_int);
    *ret_years = years;
    *ret_count = count;
    return 0;
}

int sifa_calendar_load_dir(const char *dir, struct sifa_calendar **ret_cal, struct sifa_error *err)
{
    assert(dir != NULL && ret_cal != NULL);
    _cleanup_free_ int *years = NULL;
    size_t count = 0;
    int r = list_years(dir, &years, &count, err);
    if (r < 0)
        return r;

    struct loader ld = {0};
    size_t pathcap = strlen(dir) + 8;
    _cleanup_free_ char *path = sifa_xmalloc(pathcap);
    for (size_t i = 0; i < count && r >= 0; i++) {
        snprintf(path, pathcap, "%s/%04d", dir, years[i]);
        r = check_year(err, path, years[i]);
        if (r < 0)
            break;
        char *text = NULL;
        size_t len = 0;
        r = read_year_file(path, &text, &len, err);
        if (r < 0)
            break;
        r = parse_file(&ld, years[i], path, text, len, err);
        free(text);
    }
    if (r >= 0)
        r = loader_finish(&ld, ret_cal, err);
    loader_release(&ld);
    return r < 0 ? r : 0;
}

void sifa_calendar_free(struct sifa_calendar *cal)
{
    if (cal != NULL)
        calendar_free_parts(cal);
}

/* ---- Queries ------------------------------------------------------------------------------ */

bool sifa_calendar_covers_year(const struct sifa_calendar *cal, int year)
{
    assert(cal != NULL);
    return year >= cal->first_year && year <= cal->last_year && cal->covered[year - cal->first_year];
}

void sifa_calendar_year_range(const struct sifa_calendar *cal, int *ret_first, int *ret_last)
{
    assert(cal != NULL);
    if (ret_first != NULL)
        *ret_first = cal->first_year;
    if (ret_last != NULL)
        *ret_last = cal->last_year;
}

/* The kind of day number d (a positive enum sifa_calendar_day_kind) or a negative status. */
static int kind_of(const struct sifa_calendar *cal, int64_t d, const struct entry **ret_entry, struct sifa_error *err)
{
    int32_t date;
    int r = sifa_calendar_date_from_days(d, &date, err);
    if (r < 0)
        return r;
    if (!sifa_calendar_covers_year(cal, date / 10000))
        return year_missing(err, date / 10000, date);
    assert(d >= cal->base && d < cal->base + cal->ndays);
    uint32_t slot = cal->day_entry[d - cal->base];
    if (slot != 0) {
        const struct entry *e = &cal->entries[slot - 1];
        if (ret_entry != NULL)
            *ret_entry = e;
        return e->kind;
    }
    if (ret_entry != NULL)
        *ret_entry = NULL;
    int64_t wd = (d + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
    if (wd < 0)
        wd += 7;
    return wd >= 5 ? SIFA_CALENDAR_WEEKEND : SIFA_CALENDAR_WORKDAY;
}

static bool kind_works(int kind)
{
    return kind == SIFA_CALENDAR_WORKDAY || kind == SIFA_CALENDAR_MAKEUP;
}

int sifa_calendar_day_kind(const struct sifa_calendar *cal, int32_t date, const char **ret_name,
                           struct sifa_error *err)
{
    assert(cal != NULL);
    int64_t d;
    int r = sifa_calendar_date_to_days(date, &d, err);
    if (r < 0)
        return r;
    const struct entry *e = NULL;
    int kind = kind_of(cal, d, &e, err);
    if (kind >= 0 && ret_name != NULL)
        *ret_name = e ? e->name : NULL;
    return kind;
}

int sifa_calendar_is_workday(const struct sifa_calendar *cal, int32_t date, struct sifa_error *err)
{
    int kind = sifa_calendar_day_kind(cal, date, NULL, err);
    return kind < 0 ? kind : kind_works(kind);
}

/* The day number of the n-th working day after day number d (n >= 1). */
static int nth_workday_after(const struct sifa_calendar *cal, int64_t d, int32_t n, int64_t *ret_day,
                             struct sifa_error *err)
{
    assert(n >= 1);
    for (int32_t seen = 0;;) {
        d++;
        int kind = kind_of(cal, d, NULL, err);
        if (kind < 0)
            return kind;
        if (kind_works(kind) && ++seen == n)
            break;
    }
    *ret_day = d;
    return 0;
}

int sifa_calendar_add_working_days(const struct sifa_calendar *cal, int32_t start, int32_t n, int32_t *ret_date,
                                   struct sifa_error *err)
{
    assert(cal != NULL);
    int64_t d;
    int r = sifa_calendar_date_to_days(start, &d, err);
    if (r < 0)
        return r;
    if (n < 0 || n > SIFA_CALENDAR_MAX_COUNT)
        return range_error(err, "工作日天数", n);
    if (n == 0) {
        *ret_date = start;
        return 0;
    }
    r = nth_workday_after(cal, d, n, &d, err);
    if (r < 0)
        return r;
    return sifa_calendar_date_from_days(d, ret_date, err);
}

int sifa_calendar_next_workday(const struct sifa_calendar *cal, int32_t date, int32_t *ret_date,
                               struct sifa_error *err)
{
    return sifa_calendar_add_working_days(cal, date, 1, ret_date, err);
}

int sifa_calendar_add_natural_days(const struct sifa_calendar *cal, int32_t start, int32_t n, unsigned flags,
                                   int32_t *ret_date, struct sifa_error *err)
{
    if ((flags & ~SIFA_CALENDAR_ROLL_TO_WORKDAY) != 0 || ((flags & SIFA_CALENDAR_ROLL_TO_WORKDAY) && cal == NULL))
        return sifa_error_set(err, SIFA_EINVALID, "calendar_range", "参数 flags 无效");
    if (n < -SIFA_CALENDAR_MAX_COUNT || n > SIFA_CALENDAR_MAX_COUNT)
        return sifa_error_set(err, SIFA_EINVALID, "calendar_range", "自然日天数 %ld 超出允许范围（±%d）", (long)n,
                              SIFA_CALENDAR_MAX_COUNT);
    int32_t end;
    int r = sifa_calendar_date_add_days(start, n, &end, err);
    if (r < 0)
        return r;
    if (flags & SIFA_CALENDAR_ROLL_TO_WORKDAY) {
        r = sifa_calendar_is_workday(cal, end, err);
        if (r < 0)
            return r;
        if (r == 0) {
            r = sifa_calendar_next_workday(cal, end, &end, err);
            if (r < 0)
                return r;
        }
    }
    *ret_date = end;
    return 0;
}

int sifa_calendar_working_days_between(const struct sifa_calendar *cal, int32_t a, int32_t b, int32_t *ret_count,
                                       struct sifa_error *err)
{
    assert(cal != NULL);
    int64_t da, db;
    int r = sifa_calendar_date_to_days(a, &da, err);
    if (r < 0)
        return r;
    r = sifa_calendar_date_to_days(b, &db, err);
    if (r < 0)
        return r;
    int64_t lo = da < db ? da : db, hi = da < db ? db : da;
    int32_t count = 0;
    /* Bounded: kind_of fails at the first day outside the covered years (at most
     * SIFA_CALENDAR_MAX_YEARS of them), so count fits easily. */
    for (int64_t d = lo + 1; d <= hi; d++) {
        int kind = kind_of(cal, d, NULL, err);
        if (kind < 0)
            return kind;
        count += kind_works(kind);
    }
    *ret_count = da <= db ? count : -count;
    return 0;
}
