/* template.c — the annual report's template (reports/annual.md): parser, figure formats and the
 * builder that turns a template, the figures of one year and org unit and the stored passages into
 * a struct sifa_doc. Layer: report (above stats).
 *
 * Syntax (line-oriented, UTF-8; the template file repeats it for the people who edit it):
 *   # 标题              the title             ## 一、…   heading 1    ### (一)…  heading 2
 *   #### 一是…          heading 3             @addressee 市委、市政府:
 *   @signature 慈溪市司法局                    @date {{date}}
 *   any other line      paragraph text: consecutive lines are joined without a separator (Chinese
 *                       text has no spaces); a blank line ends the paragraph
 *   <!-- … -->          a comment, may span lines; a line holding only a comment is ignored
 * Placeholders, anywhere in a line (never across lines, never nested):
 *   {{code}}            the figure of indicator `code` as the statistics write it (its declared digits)
 *   {{code|format}}     trim (drop trailing zeros: 100.0 → 100), phrase (同比下降14.88%),
 *                       元[:d] 万元[:d] 亿元[:d] (money with its unit word, d digits, default 2 for 万元/亿元),
 *                       万[:d] 亿[:d] (scaled, no unit word), 余[:step] (56 → 50余), floor[:step] (82.2 → 80,
 *                       the text around says 以上), 超过[:step], 超过万 (53816 → 超过5万), 超过亿
 *   {{year}} {{year-1}} {{year+1}} {{date}} (2022年2月28日) {{org_name}}
 *   {{#passage key}}default text{{/passage}}   a narrative passage staff edit per year and org (may span
 *                       lines and paragraphs; holds no placeholders); {{passage:key}} one without default
 * Invariants: a parsed template is immutable; every figure of a built report comes from one
 * sifa_stats_read, and a figure without data is flagged missing, never printed as 0. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/common.h"
#include "base/text.h"
#include "report/report.h"
#include "stats/stats.h"

#define PLACEHOLDER_MAX 256
#define BLOCKS_MAX 4096
#define ITEMS_MAX 20000
#define MISSING_TEXT "【无数据】"
#define DENIED_TEXT "【无权查看】"
#define UNWRITTEN_TEXT "【待撰写】"

/* ---------- the parsed template ---------- */

enum item_kind { ITEM_TEXT, ITEM_FIGURE, ITEM_VAR, ITEM_PASSAGE };
enum var_kind { VAR_YEAR, VAR_DATE, VAR_ORG_NAME };

struct item {
    enum item_kind kind;
    char *text; /* TEXT: the text; FIGURE: the indicator code */
    size_t len, cap; /* TEXT: of text, so that appending a line costs its own length */
    char *spec; /* FIGURE: the format as written, or NULL */
    enum var_kind var;
    int offset;     /* VAR_YEAR: {{year-1}} is -1 */
    size_t passage; /* PASSAGE: index */
    int line, column;
};

struct block {
    enum sifa_doc_block_kind kind;
    size_t n, cap;
    struct item *items;
};

struct passage {
    char *key;
    char *text; /* default, canonical: paragraphs separated by one '\n' */
    size_t len, cap;
    int line, column;
};

struct sifa_report_template {
    char *name;
    size_t nblocks, cap;
    struct block *blocks;
    size_t npassages;
    struct passage passages[SIFA_REPORT_PASSAGES_MAX];
    size_t ncodes;
    char **codes;
    size_t nplaceholders, nitems;
};

void sifa_report_template_free(struct sifa_report_template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nblocks; i++) {
        for (size_t k = 0; k < t->blocks[i].n; k++) {
            free(t->blocks[i].items[k].text);
            free(t->blocks[i].items[k].spec);
        }
        free(t->blocks[i].items);
    }
    free(t->blocks);
    for (size_t i = 0; i < t->npassages; i++) {
        free(t->passages[i].key);
        free(t->passages[i].text);
    }
    for (size_t i = 0; i < t->ncodes; i++)
        free(t->codes[i]);
    free(t->codes);
    free(t->name);
    free(t);
}

size_t sifa_report_template_ncodes(const struct sifa_report_template *t)
{
    return t->ncodes;
}

const char *sifa_report_template_code(const struct sifa_report_template *t, size_t i)
{
    return i < t->ncodes ? t->codes[i] : NULL;
}

size_t sifa_report_template_npassages(const struct sifa_report_template *t)
{
    return t->npassages;
}

const char *sifa_report_template_passage_key(const struct sifa_report_template *t, size_t i)
{
    return i < t->npassages ? t->passages[i].key : NULL;
}

const char *sifa_report_template_passage_default(const struct sifa_report_template *t, size_t i)
{
    return i < t->npassages ? (t->passages[i].text ? t->passages[i].text : "") : NULL;
}

int sifa_report_template_find_passage(const struct sifa_report_template *t, const char *key)
{
    for (size_t i = 0; key != NULL && i < t->npassages; i++)
        if (strcmp(t->passages[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* ---------- figure formats ---------- */

enum format_kind {
    FMT_PLAIN,
    FMT_TRIM,
    FMT_PHRASE,
    FMT_YUAN,     /* 元 */
    FMT_WAN_YUAN, /* 万元 */
    FMT_YI_YUAN,  /* 亿元 */
    FMT_WAN,      /* 万 */
    FMT_YI,       /* 亿 */
    FMT_YU,       /* 余 */
    FMT_FLOOR,
    FMT_OVER,     /* 超过 */
    FMT_OVER_WAN, /* 超过万 */
    FMT_OVER_YI,  /* 超过亿 */
};

struct format {
    enum format_kind kind;
    int digits;   /* scaled formats: -1 default */
    int64_t step; /* floors: 0 default (the value's two leading digits, one for two-digit values) */
};

static const struct {
    const char *name;
    enum format_kind kind;
    char arg; /* 'd' digits, 's' step, 0 none */
    bool money;
} formats[] = {
    {"trim", FMT_TRIM, 0, false},       {"phrase", FMT_PHRASE, 0, false},  {"元", FMT_YUAN, 'd', true},
    {"万元", FMT_WAN_YUAN, 'd', true},  {"亿元", FMT_YI_YUAN, 'd', true},  {"万", FMT_WAN, 'd', false},
    {"亿", FMT_YI, 'd', false},         {"余", FMT_YU, 's', false},        {"floor", FMT_FLOOR, 's', false},
    {"超过", FMT_OVER, 's', false},     {"超过万", FMT_OVER_WAN, 0, false}, {"超过亿", FMT_OVER_YI, 0, false},
};

#define FORMAT_NAMES "trim、phrase、元、万元、亿元、万、亿、余、floor、超过、超过万、超过亿"
#define DIGITS_MAX 6
#define STEP_MAX 1000000000000LL

/* The length of s[0..n) cut to at most max bytes at a character boundary (for quoting input in
 * messages: half a UTF-8 sequence would make the JSON envelope invalid). */
static int utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return (int)n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* Parses "亿元:2" into f; on failure writes a Chinese reason into why. */
static bool format_parse(const char *spec, struct format *f, bool *ret_money, char *why, size_t why_size)
{
    *f = (struct format){FMT_PLAIN, -1, 0};
    *ret_money = false;
    if (spec == NULL || spec[0] == '\0')
        return true;
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(formats); i++) {
        if (strlen(formats[i].name) != nlen || memcmp(formats[i].name, spec, nlen) != 0)
            continue;
        f->kind = formats[i].kind;
        *ret_money = formats[i].money;
        if (colon == NULL)
            return true;
        if (formats[i].arg == 0) {
            snprintf(why, why_size, "格式 %s 不带参数", formats[i].name);
            return false;
        }
        char *end;
        errno = 0;
        long long v = strtoll(colon + 1, &end, 10);
        if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
            (formats[i].arg == 'd' ? v > DIGITS_MAX : (v < 1 || v > STEP_MAX))) {
            if (formats[i].arg == 'd')
                snprintf(why, why_size, "格式 %s 的参数应为 0 到 %d 的小数位数", formats[i].name, DIGITS_MAX);
            else
                snprintf(why, why_size, "格式 %s 的参数应为正整数(取整的单位,如 10、100)", formats[i].name);
            return false;
        }
        if (formats[i].arg == 'd')
            f->digits = (int)v;
        else
            f->step = v;
        return true;
    }
    snprintf(why, why_size, "未知的格式 %.*s(可用:" FORMAT_NAMES ")", utf8_cut(spec, nlen, 64), spec);
    return false;
}

/* An exact decimal read from the statistics' text ("-14.88", "178036420.00"). */
struct exact {
    bool negative;
    __int128 mag; /* |value| × 10^digits */
    int digits;
};

static bool exact_parse(const char *s, struct exact *ret)
{
    struct exact e = {0};
    if (*s == '-') {
        e.negative = true;
        s++;
    }
    bool any = false, point = false;
    for (; *s; s++) {
        if (*s == '.' && !point) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9' || e.mag > ((__int128)1 << 100))
            return false;
        e.mag = e.mag * 10 + (*s - '0');
        any = true;
        if (point)
            e.digits++;
    }
    if (!any || e.digits > 18)
        return false;
    *ret = e;
    return true;
}

static __int128 pow10_128(int n)
{
    __int128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

static void u128_text(__int128 v, char *out, size_t size)
{
    char tmp[48];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v > 0 && n < sizeof(tmp));
    size_t o = 0;
    while (n > 0 && o + 1 < size)
        out[o++] = tmp[--n];
    out[o] = '\0';
}

/* |value| / 10^shift rounded half up to digits decimals, as text (sign added when negative). */
static void scaled_text(const struct exact *e, int shift, int digits, char *out, size_t size)
{
    int have = e->digits + shift; /* decimals of mag relative to the scaled value */
    __int128 r;
    if (digits >= have) {
        r = e->mag * pow10_128(digits - have);
    } else {
        __int128 div = pow10_128(have - digits);
        r = e->mag / div;
        if ((e->mag % div) * 2 >= div)
            r++;
    }
    char num[64];
    u128_text(r, num, sizeof(num));
    size_t len = strlen(num);
    if (digits > 0 && len <= (size_t)digits) { /* 0.05: pad to one integer digit */
        size_t pad = (size_t)digits + 1 - len;
        memmove(num + pad, num, len + 1);
        memset(num, '0', pad);
        len += pad;
    }
    char body[80];
    if (digits == 0)
        snprintf(body, sizeof(body), "%s", num);
    else
        snprintf(body, sizeof(body), "%.*s.%s", (int)(len - (size_t)digits), num, num + len - (size_t)digits);
    snprintf(out, size, "%s%s", e->negative && r != 0 ? "-" : "", body);
}

/* The step a bare 余/floor/超过 floors to: 56 → 10, 256 → 10, 3218 → 100, 12033 → 1000. */
static __int128 default_step(__int128 ip)
{
    int n = 0;
    for (__int128 v = ip; v > 0; v /= 10)
        n++;
    return n <= 1 ? 1 : pow10_128(n <= 2 ? 1 : n - 2);
}

static char *trimmed(const char *text)
{
    char *s = sifa_xstrdup(text);
    char *dot = strchr(s, '.');
    if (dot != NULL) {
        char *end = s + strlen(s);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(s, "-0") == 0) /* -0.00 trimmed */
        memmove(s, s + 1, 2);
    return s;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort(); /* out of memory, as sifa_xmalloc */
    return out;
}

static int format_apply(const struct format *f, json_t *item, char **ret_text, struct sifa_error *err)
{
    if (f->kind == FMT_PHRASE) {
        const char *phrase = json_string_value(json_object_get(item, "phrase"));
        if (phrase == NULL)
            phrase = json_string_value(json_object_get(json_object_get(item, "change"), "phrase"));
        if (phrase == NULL)
            return sifa_error_set(err, SIFA_ENOTFOUND, "no_data", "没有可比较的上年数据");
        *ret_text = sifa_xstrdup(phrase);
        return 0;
    }
    const char *text = json_string_value(json_object_get(item, "text"));
    if (text == NULL || !json_is_true(json_object_get(item, "has_data")))
        return sifa_error_set(err, SIFA_ENOTFOUND, "no_data", "无数据");
    if (f->kind == FMT_PLAIN) {
        *ret_text = sifa_xstrdup(text);
        return 0;
    }
    if (f->kind == FMT_TRIM) {
        *ret_text = trimmed(text);
        return 0;
    }
    struct exact e;
    if (!exact_parse(text, &e))
        return sifa_error_set(err, SIFA_EINTERNAL, "bad_figure", "指标数值 %s 无法解析", text);
    char num[96];
    switch (f->kind) {
    case FMT_YUAN:
    case FMT_WAN_YUAN:
    case FMT_YI_YUAN:
    case FMT_WAN:
    case FMT_YI: {
        int shift = f->kind == FMT_YUAN ? 0 : (f->kind == FMT_WAN_YUAN || f->kind == FMT_WAN) ? 4 : 8;
        int digits = f->digits >= 0 ? f->digits : f->kind == FMT_YUAN ? e.digits : 2;
        scaled_text(&e, shift, digits, num, sizeof(num));
        const char *unit = f->kind == FMT_YUAN       ? "元"
                           : f->kind == FMT_WAN_YUAN ? "万元"
                           : f->kind == FMT_YI_YUAN  ? "亿元"
                           : f->kind == FMT_WAN      ? "万"
                                                     : "亿";
        *ret_text = xasprintf("%s%s", num, unit);
        return 0;
    }
    default:
        break;
    }
    /* floors: 余, floor, 超过, 超过万, 超过亿 — of non-negative values; a negative one is written exactly */
    if (e.negative) {
        *ret_text = sifa_xstrdup(text);
        return 0;
    }
    __int128 unit = pow10_128(e.digits);
    __int128 ip = e.mag / unit;
    bool fraction = e.mag % unit != 0;
    if (f->kind == FMT_OVER_WAN || f->kind == FMT_OVER_YI) {
        __int128 scale = pow10_128(f->kind == FMT_OVER_WAN ? 4 : 8);
        if (ip < scale) { /* below one 万: the exact figure reads better than 超过0万 */
            *ret_text = sifa_xstrdup(text);
            return 0;
        }
        bool more = fraction || ip % scale != 0;
        u128_text(ip / scale, num, sizeof(num));
        *ret_text = xasprintf("%s%s%s", more ? "超过" : "", num, f->kind == FMT_OVER_WAN ? "万" : "亿");
        return 0;
    }
    __int128 step = f->step > 0 ? (__int128)f->step : default_step(ip);
    __int128 fl = ip - ip % step;
    bool more = fraction || fl != ip;
    u128_text(fl, num, sizeof(num));
    if (f->kind == FMT_FLOOR)
        *ret_text = sifa_xstrdup(num);
    else if (f->kind == FMT_YU)
        *ret_text = xasprintf("%s%s", num, more ? "余" : "");
    else
        *ret_text = xasprintf("%s%s", more ? "超过" : "", num);
    return 0;
}

int sifa_report_format_figure(const char *spec, json_t *item, char **ret_text, struct sifa_error *err)
{
    struct format f;
    bool money;
    char why[256];
    if (!format_parse(spec, &f, &money, why, sizeof(why)))
        return sifa_error_set(err, SIFA_EINVALID, "template_format", "%s", why);
    return format_apply(&f, item, ret_text, err);
}

/* ---------- parsing ---------- */

struct parser {
    struct sifa_report_template *t;
    const char *src; /* the original text (line and column are counted there) */
    char *buf;       /* a copy with comments blanked to '\x01' */
    size_t len;
    struct block *cur;    /* the open paragraph, or NULL */
    struct passage *open; /* the passage being read, or NULL */
    bool pending_break;   /* a blank line inside the open passage */
    struct sifa_error *err;
    size_t at_off;        /* position() resumes from here: offsets mostly grow */
    int at_line, at_col;
};

static void position(struct parser *p, size_t off, int *ret_line, int *ret_col)
{
    int line = 1, col = 1;
    size_t i = 0;
    if (p->at_line > 0 && off >= p->at_off) {
        i = p->at_off;
        line = p->at_line;
        col = p->at_col;
    }
    for (; i < off && i < p->len; i++) {
        unsigned char c = (unsigned char)p->src[i];
        if (c == '\n') {
            line++;
            col = 1;
        } else if ((c & 0xC0) != 0x80) {
            col++;
        }
    }
    p->at_off = i;
    p->at_line = line;
    p->at_col = col;
    *ret_line = line;
    *ret_col = col;
}

static int syntax(struct parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int syntax(struct parser *p, size_t off, const char *fmt, ...)
{
    int line, col;
    position(p, off, &line, &col);
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(msg))
        msg[utf8_cut(msg, sizeof(msg) - 1, sizeof(msg) - 2)] = '\0';
    return sifa_error_set_details(p->err, SIFA_EINVALID, "template_syntax",
                                  json_pack("{s:s,s:i,s:i}", "file", p->t->name, "line", line, "column", col),
                                  "%s:%d:%d: %s", p->t->name, line, col, msg);
}

static struct block *block_new(struct parser *p, enum sifa_doc_block_kind kind, size_t off, int *ret_status)
{
    struct sifa_report_template *t = p->t;
    if (t->nblocks >= BLOCKS_MAX) {
        *ret_status = syntax(p, off, "模板的段落和标题过多(最多 %d 个)", BLOCKS_MAX);
        return NULL;
    }
    if (t->nblocks == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->blocks = sifa_xrealloc(t->blocks, t->cap * sizeof(*t->blocks));
    }
    struct block *b = &t->blocks[t->nblocks++];
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    *ret_status = 0;
    return b;
}

static struct item *item_add(struct parser *p, struct block *b, enum item_kind kind, size_t off, int *ret_status)
{
    if (++p->t->nitems > ITEMS_MAX) {
        *ret_status = syntax(p, off, "模板内容过多(最多 %d 段文字和占位符)", ITEMS_MAX);
        return NULL;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->items = sifa_xrealloc(b->items, b->cap * sizeof(*b->items));
    }
    struct item *it = &b->items[b->n++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    position(p, off, &it->line, &it->column);
    *ret_status = 0;
    return it;
}

/* Appends s[0..n) without the comment bytes. */
static void append_clean(char **dst, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *dst = sifa_xrealloc(*dst, *cap);
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\x01')
            (*dst)[(*len)++] = s[i];
    (*dst)[*len] = '\0';
}

static bool has_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\x01')
            return true;
    return false;
}

static int add_text(struct parser *p, struct block *b, size_t off, const char *s, size_t n)
{
    if (!has_text(s, n))
        return 0;
    if (p->open != NULL) {
        struct passage *ps = p->open;
        if (p->pending_break && ps->len > 0)
            append_clean(&ps->text, &ps->len, &ps->cap, "\n", 1);
        p->pending_break = false;
        append_clean(&ps->text, &ps->len, &ps->cap, s, n);
        if (ps->len > SIFA_REPORT_PASSAGE_MAX_BYTES)
            return syntax(p, off, "段落 %s 的默认文字过长(最多 %d 字节)", ps->key, SIFA_REPORT_PASSAGE_MAX_BYTES);
        return 0;
    }
    if (b->n > 0 && b->items[b->n - 1].kind == ITEM_TEXT) {
        struct item *last = &b->items[b->n - 1];
        append_clean(&last->text, &last->len, &last->cap, s, n);
        return 0;
    }
    int r;
    struct item *it = item_add(p, b, ITEM_TEXT, off, &r);
    if (it == NULL)
        return r;
    append_clean(&it->text, &it->len, &it->cap, s, n);
    return 0;
}

static bool valid_code(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int passage_new(struct parser *p, const char *key, size_t klen, size_t off, bool with_default,
                       struct block *b)
{
    struct sifa_report_template *t = p->t;
    if (b == NULL || b->kind != SIFA_BLOCK_PARAGRAPH)
        return syntax(p, off, "段落占位符只能用在正文中,不能用在标题、主送、落款或日期行");
    if (!valid_code(key, klen, SIFA_REPORT_PASSAGE_KEY_MAX))
        return syntax(p, off, "段落名应由小写字母开头,只含小写字母、数字和下划线,最长 %d 个字符",
                      SIFA_REPORT_PASSAGE_KEY_MAX);
    for (size_t i = 0; i < t->npassages; i++)
        if (strlen(t->passages[i].key) == klen && memcmp(t->passages[i].key, key, klen) == 0)
            return syntax(p, off, "段落 %s 重复(首次出现在第 %d 行第 %d 列)", t->passages[i].key,
                          t->passages[i].line, t->passages[i].column);
    if (t->npassages >= SIFA_REPORT_PASSAGES_MAX)
        return syntax(p, off, "段落过多(最多 %d 个)", SIFA_REPORT_PASSAGES_MAX);
    struct passage *ps = &t->passages[t->npassages];
    memset(ps, 0, sizeof(*ps));
    ps->key = sifa_xstrndup(key, klen);
    ps->text = sifa_xstrdup("");
    ps->cap = 1;
    position(p, off, &ps->line, &ps->column);
    int r;
    struct item *it = item_add(p, b, ITEM_PASSAGE, off, &r);
    if (it == NULL) {
        free(ps->key);
        free(ps->text);
        return r;
    }
    it->passage = t->npassages++;
    if (with_default) {
        p->open = ps;
        p->pending_break = false;
    }
    return 0;
}

static void code_note(struct sifa_report_template *t, const char *code)
{
    for (size_t i = 0; i < t->ncodes; i++)
        if (strcmp(t->codes[i], code) == 0)
            return;
    t->codes = sifa_xrealloc(t->codes, (t->ncodes + 1) * sizeof(*t->codes));
    t->codes[t->ncodes++] = sifa_xstrdup(code);
}

/* One placeholder: s[0..n) is what stands between {{ and }}, trimmed; off is the offset of "{{". */
static int placeholder(struct parser *p, struct block *b, const char *s, size_t n, size_t off)
{
    if (++p->t->nplaceholders > SIFA_REPORT_PLACEHOLDERS_MAX)
        return syntax(p, off, "占位符过多(最多 %d 个)", SIFA_REPORT_PLACEHOLDERS_MAX);
    if (p->open != NULL) {
        if (n == 8 && memcmp(s, "/passage", 8) == 0) {
            p->open = NULL;
            return 0;
        }
        return syntax(p, off, "段落 %s 中不能有占位符(段落是不含数据的叙述文字;用 {{/passage}} 结束段落)",
                      p->open->key);
    }
    if (n == 8 && memcmp(s, "/passage", 8) == 0)
        return syntax(p, off, "多余的 {{/passage}}:前面没有未结束的 {{#passage …}}");
    if (n > 9 && memcmp(s, "#passage", 8) == 0 && (s[8] == ' ' || s[8] == '\t')) {
        size_t k = 9;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        return passage_new(p, s + k, n - k, off, true, b);
    }
    if (n > 8 && memcmp(s, "passage:", 8) == 0)
        return passage_new(p, s + 8, n - 8, off, false, b);
    if (s[0] == '#' || s[0] == '/')
        return syntax(p, off, "未知的区块 {{%.*s}}(只有 {{#passage 名称}} … {{/passage}})", utf8_cut(s, n, 64), s);
    int r;
    if (n == 4 && memcmp(s, "date", 4) == 0) {
        struct item *it = item_add(p, b, ITEM_VAR, off, &r);
        if (it != NULL)
            it->var = VAR_DATE;
        return r;
    }
    if (n == 8 && memcmp(s, "org_name", 8) == 0) {
        struct item *it = item_add(p, b, ITEM_VAR, off, &r);
        if (it != NULL)
            it->var = VAR_ORG_NAME;
        return r;
    }
    if (n >= 4 && memcmp(s, "year", 4) == 0 && (n == 4 || s[4] == '+' || s[4] == '-')) {
        int offset = 0;
        if (n > 4) {
            if (n != 6 || s[5] < '1' || s[5] > '9')
                return syntax(p, off, "年份占位符应为 {{year}}、{{year-N}} 或 {{year+N}}(N 为 1 到 9)");
            offset = (s[4] == '-' ? -1 : 1) * (s[5] - '0');
        }
        struct item *it = item_add(p, b, ITEM_VAR, off, &r);
        if (it != NULL) {
            it->var = VAR_YEAR;
            it->offset = offset;
        }
        return r;
    }
    const char *bar = memchr(s, '|', n);
    size_t clen = bar ? (size_t)(bar - s) : n;
    while (clen > 0 && (s[clen - 1] == ' ' || s[clen - 1] == '\t'))
        clen--;
    if (!valid_code(s, clen, SIFA_MODEL_CODE_MAX))
        return syntax(p, off, "占位符 {{%.*s}} 不是指标代码(小写字母开头,只含小写字母、数字和下划线)、年份、日期或段落",
                      utf8_cut(s, n, 80), s);
    char *spec = NULL;
    if (bar != NULL) {
        const char *f = bar + 1, *end = s + n;
        while (f < end && (*f == ' ' || *f == '\t'))
            f++;
        spec = sifa_xstrndup(f, (size_t)(end - f));
        struct format fmt;
        bool money;
        char why[256];
        if (!format_parse(spec, &fmt, &money, why, sizeof(why))) {
            free(spec);
            return syntax(p, off, "%s", why);
        }
    }
    struct item *it = item_add(p, b, ITEM_FIGURE, off, &r);
    if (it == NULL) {
        free(spec);
        return r;
    }
    it->text = sifa_xstrndup(s, clen);
    it->spec = spec;
    code_note(p->t, it->text);
    return 0;
}

/* Scans buf[from..to) of one line into block b (or the open passage). */
static int scan_inline(struct parser *p, struct block *b, size_t from, size_t to)
{
    size_t pos = from;
    while (pos < to) {
        const char *open = NULL;
        for (size_t i = pos; i + 1 < to; i++)
            if (p->buf[i] == '{' && p->buf[i + 1] == '{') {
                open = p->buf + i;
                break;
            }
        size_t o = open ? (size_t)(open - p->buf) : to;
        int r = add_text(p, b, pos, p->buf + pos, o - pos);
        if (r < 0 || open == NULL)
            return r;
        size_t close = 0;
        for (size_t i = o + 2; i + 1 < to; i++)
            if (p->buf[i] == '}' && p->buf[i + 1] == '}') {
                close = i;
                break;
            }
        if (close == 0)
            return syntax(p, o, "占位符没有结束的 }}(占位符不能跨行)");
        size_t a = o + 2, z = close;
        while (a < z && (p->buf[a] == ' ' || p->buf[a] == '\t'))
            a++;
        while (z > a && (p->buf[z - 1] == ' ' || p->buf[z - 1] == '\t'))
            z--;
        if (z - a > PLACEHOLDER_MAX)
            return syntax(p, o, "占位符过长(最多 %d 字节)", PLACEHOLDER_MAX);
        if (memchr(p->buf + a, '{', z - a) != NULL || memchr(p->buf + a, '\x01', z - a) != NULL)
            return syntax(p, o, "占位符不能嵌套,也不能含注释");
        if (z == a)
            return syntax(p, o, "空的占位符 {{}}");
        if ((r = placeholder(p, b, p->buf + a, z - a, o)) < 0)
            return r;
        pos = close + 2;
    }
    return 0;
}

static const struct {
    const char *prefix;
    enum sifa_doc_block_kind kind;
} line_kinds[] = {
    {"#### ", SIFA_BLOCK_HEADING3},       {"### ", SIFA_BLOCK_HEADING2},         {"## ", SIFA_BLOCK_HEADING1},
    {"# ", SIFA_BLOCK_TITLE},             {"@addressee ", SIFA_BLOCK_ADDRESSEE}, {"@signature ", SIFA_BLOCK_SIGNATURE},
    {"@date ", SIFA_BLOCK_DATE},
};

static int parse_line(struct parser *p, size_t a, size_t z)
{
    /* trim blanks (and comment bytes) at both ends */
    while (a < z && (p->buf[a] == ' ' || p->buf[a] == '\t' || p->buf[a] == '\x01'))
        a++;
    while (z > a && (p->buf[z - 1] == ' ' || p->buf[z - 1] == '\t' || p->buf[z - 1] == '\r' || p->buf[z - 1] == '\x01'))
        z--;
    if (a == z) {
        bool only_comment = false;
        /* a line holding only a comment is no line at all: it neither ends nor continues a paragraph */
        for (size_t i = a; i > 0 && p->buf[i - 1] != '\n'; i--)
            only_comment = only_comment || p->buf[i - 1] == '\x01';
        for (size_t i = z; i < p->len && p->buf[i] != '\n'; i++)
            only_comment = only_comment || p->buf[i] == '\x01';
        if (only_comment)
            return 0;
        if (p->open != NULL)
            p->pending_break = true;
        else
            p->cur = NULL;
        return 0;
    }
    if (p->open != NULL)
        return scan_inline(p, p->cur, a, z);
    const char *s = p->buf + a;
    size_t n = z - a;
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(line_kinds); i++) {
        size_t pl = strlen(line_kinds[i].prefix);
        if (n >= pl && memcmp(s, line_kinds[i].prefix, pl) == 0) {
            int r;
            struct block *b = block_new(p, line_kinds[i].kind, a, &r);
            if (b == NULL)
                return r;
            p->cur = NULL;
            size_t from = a + pl;
            while (from < z && (p->buf[from] == ' ' || p->buf[from] == '\t'))
                from++;
            if ((r = scan_inline(p, b, from, z)) < 0)
                return r;
            if (p->open != NULL)
                return syntax(p, a, "段落不能用在标题、主送、落款或日期行");
            if (b->n == 0)
                return syntax(p, a, "%s后面没有内容", line_kinds[i].prefix);
            return 0;
        }
    }
    if (s[0] == '@') {
        size_t k = 1;
        while (k < n && s[k] >= 'a' && s[k] <= 'z')
            k++;
        if (k > 1)
            return syntax(p, a, "未知的行指令 %.*s(可用:@addressee、@signature、@date)", (int)k, s);
    }
    if (s[0] == '#') {
        size_t k = 0;
        while (k < n && s[k] == '#')
            k++;
        if (k > 4 || k == n || s[k] != ' ')
            return syntax(p, a, "标题行应为 1 到 4 个 # 加一个空格");
    }
    if (p->cur == NULL) {
        int r;
        if ((p->cur = block_new(p, SIFA_BLOCK_PARAGRAPH, a, &r)) == NULL)
            return r;
    }
    return scan_inline(p, p->cur, a, z);
}

/* The first byte that is not valid UTF-8 (or a NUL), or len. */
static size_t bad_utf8_at(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] == '\0')
            return i;
        size_t k = sifa_utf8_decode((const unsigned char *)s + i, len - i, NULL);
        if (k == 0)
            return i;
        i += k;
    }
    return len;
}

int sifa_report_template_parse(const char *text, size_t len, const char *name, struct sifa_report_template **ret,
                               struct sifa_error *err)
{
    if (name == NULL)
        name = "template";
    if (len > SIFA_REPORT_TEMPLATE_MAX_BYTES)
        return sifa_error_set_details(err, SIFA_ELIMIT, "template_too_large",
                                      json_pack("{s:s,s:I}", "file", name, "max_bytes", (json_int_t)SIFA_REPORT_TEMPLATE_MAX_BYTES),
                                      "%s: 模板过大(最多 %d 字节)", name, SIFA_REPORT_TEMPLATE_MAX_BYTES);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* a BOM some editors write */
        text += 3;
        len -= 3;
    }
    struct sifa_report_template *t = sifa_xcalloc(1, sizeof(*t));
    t->name = sifa_xstrdup(name);
    struct parser p = {.t = t, .src = text, .len = len, .err = err};
    int r = 0;
    size_t bad = bad_utf8_at(text, len);
    if (bad < len)
        r = syntax(&p, bad, "不是有效的 UTF-8 文字(或含 NUL 字节)");
    if (r >= 0) {
        p.buf = sifa_xmalloc(len + 1);
        memcpy(p.buf, text, len);
        p.buf[len] = '\0';
        /* blank out comments, keeping offsets (and so lines and columns) */
        for (size_t i = 0; i + 3 < len && r >= 0; i++) {
            if (memcmp(p.buf + i, "<!--", 4) != 0)
                continue;
            char *end = strstr(p.buf + i + 4, "-->");
            if (end == NULL) {
                r = syntax(&p, i, "注释 <!-- 没有结束的 -->");
                break;
            }
            size_t stop = (size_t)(end - p.buf) + 3;
            for (size_t k = i; k < stop; k++)
                if (p.buf[k] != '\n')
                    p.buf[k] = '\x01';
            i = stop - 1;
        }
    }
    for (size_t a = 0; r >= 0 && p.buf != NULL && a <= len;) {
        const char *nl = memchr(p.buf + a, '\n', len - a);
        size_t z = nl ? (size_t)(nl - p.buf) : len;
        r = parse_line(&p, a, z);
        if (nl == NULL)
            break;
        a = z + 1;
    }
    if (r >= 0 && p.open != NULL) {
        struct passage *ps = p.open;
        r = sifa_error_set_details(err, SIFA_EINVALID, "template_syntax",
                                   json_pack("{s:s,s:i,s:i}", "file", name, "line", ps->line, "column", ps->column),
                                   "%s:%d:%d: 段落 %s 没有结束的 {{/passage}}", name, ps->line, ps->column, ps->key);
    }
    if (r >= 0 && t->nblocks == 0)
        r = sifa_error_set_details(err, SIFA_EINVALID, "template_syntax", json_pack("{s:s,s:i,s:i}", "file", name, "line", 1, "column", 1),
                                   "%s:1:1: 模板是空的", name);
    free(p.buf);
    if (r < 0) {
        sifa_report_template_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

int sifa_report_template_load(const char *path, struct sifa_report_template **ret, struct sifa_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "template_missing", json_pack("{s:s}", "file", path),
                                      "无法读取报告模板 %s:%s", path, strerror(errno));
    size_t cap = 64 * 1024, len = 0;
    char *buf = sifa_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > SIFA_REPORT_TEMPLATE_MAX_BYTES)
                break;
            cap *= 2;
            buf = sifa_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    int r;
    if (failed)
        r = sifa_error_set_details(err, SIFA_EINTERNAL, "template_read", json_pack("{s:s}", "file", path),
                                   "读取报告模板 %s 失败", path);
    else
        r = sifa_report_template_parse(buf, len, path, ret, err);
    free(buf);
    return r;
}

int sifa_report_template_check(const struct sifa_report_template *t, const struct sifa_model *model,
                               struct sifa_error *err)
{
    for (size_t i = 0; i < t->nblocks; i++) {
        for (size_t k = 0; k < t->blocks[i].n; k++) {
            const struct item *it = &t->blocks[i].items[k];
            if (it->kind != ITEM_FIGURE)
                continue;
            const struct sifa_indicator *ind = model ? sifa_model_indicator(model, it->text) : NULL;
            json_t *where = json_pack("{s:s,s:i,s:i,s:s}", "file", t->name, "line", it->line, "column", it->column,
                                      "indicator", it->text);
            if (ind == NULL)
                return sifa_error_set_details(err, SIFA_EINVALID, "template_indicator", where, "%s:%d:%d: 指标 %s 不存在",
                                              t->name, it->line, it->column, it->text);
            struct format f;
            bool money = false;
            char why[256];
            format_parse(it->spec, &f, &money, why, sizeof(why));
            if (money && strcmp(ind->unit, "元") != 0)
                return sifa_error_set_details(err, SIFA_EINVALID, "template_format", where,
                                              "%s:%d:%d: 格式 %s 只用于以元为单位的金额,指标 %s 的单位是 %s", t->name, it->line,
                                              it->column, it->spec, it->text, ind->unit);
            json_decref(where);
        }
    }
    return 0;
}

/* ---------- building a report ---------- */

static bool module_readable(const struct sifa_report_request *req, const struct sifa_indicator *ind, int depth)
{
    if (ind == NULL || depth > SIFA_MODEL_DEPTH_MAX)
        return true;
    if (ind->module != NULL)
        return req->scope_for != NULL && req->scope_for(req->scope_arg, ind->module) != NULL;
    return module_readable(req, ind->a, depth + 1) && module_readable(req, ind->b, depth + 1);
}

static void url_encode(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~')
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

static int32_t today_in_china(void)
{
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

struct builder {
    const struct sifa_report_request *req;
    struct sifa_doc *doc;
    json_t *items;   /* code → stats item (borrowed from data) */
    json_t *denied;  /* array of codes */
    json_t *missing; /* array of codes */
    size_t figures;
    const char *org_name;
    char org_q[256]; /* "&org=…" or "" */
};

static void note_code(json_t *list, const char *code)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (strcmp(json_string_value(v), code) == 0) return;
    json_array_append_new(list, json_string(code));
}

static int add_figure(struct builder *bd, struct sifa_doc_block *b, const struct item *it, struct sifa_error *err)
{
    char href[512];
    snprintf(href, sizeof(href), "/api/v1/indicators/%s/records?period=%d%s", it->text, bd->req->year, bd->org_q);
    bd->figures++;
    json_t *item = json_object_get(bd->items, it->text);
    if (item == NULL) { /* an indicator the caller may not read */
        note_code(bd->denied, it->text);
        sifa_doc_add_denied_figure(b, DENIED_TEXT, it->text, href);
        return 0;
    }
    char *text = NULL;
    struct sifa_error ferr = {0};
    int r = sifa_report_format_figure(it->spec, item, &text, &ferr);
    if (r == SIFA_ENOTFOUND) {
        note_code(bd->missing, it->text);
        sifa_doc_add_figure(b, MISSING_TEXT, it->text, href, true);
        sifa_error_release(&ferr);
        return 0;
    }
    if (r < 0) {
        sifa_error_set(err, ferr.status, ferr.code, "%s:%d:%d: %s", bd->req->tmpl->name, it->line, it->column,
                       ferr.message);
        sifa_error_release(&ferr);
        return r;
    }
    sifa_doc_add_figure(b, text, it->text, href, false);
    free(text);
    return 0;
}

/* Adds a passage's paragraphs: the first continues block *b, each further one opens a new paragraph. */
static void add_passage(struct builder *bd, struct sifa_doc_block **b, const struct passage *ps)
{
    json_t *stored = bd->req->passages ? json_object_get(bd->req->passages, ps->key) : NULL;
    const char *text = json_is_string(stored) ? json_string_value(stored) : ps->text;
    if (!json_is_string(stored) && (text == NULL || text[0] == '\0')) {
        sifa_doc_add_text(*b, UNWRITTEN_TEXT);
        return;
    }
    bool first = true;
    for (const char *s = text; *s;) {
        const char *nl = strpbrk(s, "\r\n");
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        /* a stored passage may have been typed with blank lines and indentation: keep only text */
        const char *a = s, *z = s + n;
        while (a < z && (*a == ' ' || *a == '\t'))
            a++;
        while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
            z--;
        if (z > a) {
            if (!first)
                *b = sifa_doc_add_block(bd->doc, SIFA_BLOCK_PARAGRAPH);
            char *part = sifa_xstrndup(a, (size_t)(z - a));
            sifa_doc_add_text(*b, part);
            free(part);
            first = false;
        }
        s += n;
        while (*s == '\r' || *s == '\n')
            s++;
    }
}

static int build_blocks(struct builder *bd, struct sifa_error *err)
{
    const struct sifa_report_template *t = bd->req->tmpl;
    int32_t date = bd->req->date ? bd->req->date : today_in_china();
    for (size_t i = 0; i < t->nblocks; i++) {
        const struct block *tb = &t->blocks[i];
        struct sifa_doc_block *b = sifa_doc_add_block(bd->doc, tb->kind);
        for (size_t k = 0; k < tb->n; k++) {
            const struct item *it = &tb->items[k];
            char buf[64];
            int r;
            switch (it->kind) {
            case ITEM_TEXT:
                sifa_doc_add_text(b, it->text);
                break;
            case ITEM_VAR:
                if (it->var == VAR_YEAR) {
                    snprintf(buf, sizeof(buf), "%d", bd->req->year + it->offset);
                    sifa_doc_add_text(b, buf);
                } else if (it->var == VAR_DATE) {
                    snprintf(buf, sizeof(buf), "%d年%d月%d日", date / 10000, date / 100 % 100, date % 100);
                    sifa_doc_add_text(b, buf);
                } else {
                    sifa_doc_add_text(b, bd->org_name);
                }
                break;
            case ITEM_FIGURE:
                if ((r = add_figure(bd, b, it, err)) < 0)
                    return r;
                break;
            case ITEM_PASSAGE:
                add_passage(bd, &b, &t->passages[it->passage]);
                break;
            }
        }
    }
    return 0;
}

/* Stock figures in a read of their own. stats.c's get_sums hands out pointers into an array that a
 * later get_sums may grow (realloc), and a stock figure holds six of them at once: a stock read
 * after enough other series crashes. Until stats.c is fixed, every figure over a stock (at most
 * 6 series a period, 12 with the compared year) gets a fresh reader; all others share one read.
 * With the fix this collapses to the single sifa_stats_read of the rest. */
static int stocks_in(const struct sifa_indicator *ind, int depth)
{
    if (ind == NULL || depth > SIFA_MODEL_DEPTH_MAX)
        return 0;
    if (ind->module != NULL)
        return ind->kind == SIFA_IND_STOCK;
    return stocks_in(ind->a, depth + 1) + stocks_in(ind->b, depth + 1);
}

static int read_into(struct sifa_db *db, struct sifa_stats_request *sr, json_t *items, json_t *stale,
                     struct sifa_error *err)
{
    json_t *data = NULL;
    int r = sifa_stats_read(db, sr, &data, err);
    if (r < 0)
        return r;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(data, "items"), i, item)
    {
        const char *code = json_string_value(json_object_get(item, "indicator"));
        if (code == NULL)
            continue;
        json_object_set(items, code, item);
        if (json_is_true(json_object_get(item, "stale")))
            json_array_append_new(stale, json_string(code));
    }
    json_decref(data);
    return 0;
}

/* Reads inds (compare[i]: also the compared year, for a 同比 phrase) into items {code: item}. */
static int read_figures(struct sifa_db *db, struct sifa_stats_request *sr, const struct sifa_indicator **inds,
                        size_t ninds, const bool *compare, json_t *items, json_t *stale, struct sifa_error *err)
{
    const struct sifa_indicator **rest = sifa_xcalloc(ninds + 1, sizeof(*rest));
    size_t nrest = 0;
    bool rest_compare = false;
    int r = 0;
    for (size_t i = 0; i < ninds && r >= 0; i++) {
        int stocks = stocks_in(inds[i], 0);
        if (stocks == 0) {
            rest[nrest++] = inds[i];
            rest_compare = rest_compare || compare[i];
            continue;
        }
        sr->indicators = &inds[i];
        sr->nindicators = 1;
        sr->compare = compare[i] && stocks == 1; /* two stocks and their previous year: 24 series */
        r = read_into(db, sr, items, stale, err);
    }
    if (r >= 0 && nrest > 0) {
        sr->indicators = rest;
        sr->nindicators = nrest;
        sr->compare = rest_compare;
        r = read_into(db, sr, items, stale, err);
    }
    free(rest);
    return r;
}

int sifa_report_annual_build(struct sifa_db *db, const struct sifa_report_request *req, struct sifa_doc **ret_doc,
                             json_t **ret_info, struct sifa_error *err)
{
    if (req->year < 1900 || req->year > 2999)
        return sifa_error_set_details(err, SIFA_EINVALID, "bad_year", json_pack("{s:i}", "year", req->year),
                                      "年份应在 1900 到 2999 之间");
    int r = sifa_report_template_check(req->tmpl, req->model, err);
    if (r < 0)
        return r;
    const struct sifa_report_template *t = req->tmpl;
    struct builder bd = {.req = req, .items = json_object(), .denied = json_array(), .missing = json_array()};
    /* the figures the caller may read, and whether a 同比 phrase of a plain figure is wanted */
    const struct sifa_indicator **inds = sifa_xcalloc(t->ncodes + 1, sizeof(*inds));
    bool *compare = sifa_xcalloc(t->ncodes + 1, sizeof(*compare));
    size_t ninds = 0;
    for (size_t i = 0; i < t->ncodes; i++) {
        const struct sifa_indicator *ind = sifa_model_indicator(req->model, t->codes[i]);
        if (!module_readable(req, ind, 0))
            continue;
        for (size_t b = 0; b < t->nblocks; b++)
            for (size_t k = 0; k < t->blocks[b].n; k++) {
                const struct item *it = &t->blocks[b].items[k];
                if (it->kind == ITEM_FIGURE && it->spec != NULL && strcmp(it->spec, "phrase") == 0 &&
                    strcmp(it->text, ind->code) == 0 && ind->kind != SIFA_IND_CHANGE)
                    compare[ninds] = true;
            }
        inds[ninds++] = ind;
    }
    char year[8];
    snprintf(year, sizeof(year), "%d", req->year);
    struct sifa_stats_request sr = {.model = req->model, .calendar = req->calendar, .tree = req->tree,
                                    .scope_for = req->scope_for, .scope_arg = req->scope_arg,
                                    .compare_how = SIFA_COMPARE_PREVIOUS_YEAR};
    const char *orgs[1] = {req->org};
    sr.orgs = orgs;
    sr.norgs = 1;
    json_t *stale = json_array();
    if ((r = sifa_period_parse(year, &sr.period, err)) >= 0)
        r = read_figures(db, &sr, inds, ninds, compare, bd.items, stale, err);
    free(inds);
    free(compare);
    if (r >= 0) {
        int at = req->org && req->tree ? sifa_org_tree_find(req->tree, req->org) : -1;
        if (req->org != NULL && at < 0)
            r = sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", req->org),
                                       "单位 %s 不存在", req->org);
        bd.org_name = at >= 0 ? req->tree->nodes[at].name : "";
        if (at < 0 && req->tree != NULL) { /* the whole jurisdiction: the only root's name */
            int root = -1, roots = 0;
            for (size_t k = 0; k < req->tree->n; k++)
                if (req->tree->nodes[k].parent < 0) {
                    root = (int)k;
                    roots++;
                }
            if (roots == 1)
                bd.org_name = req->tree->nodes[root].name;
        }
        if (req->org != NULL) {
            char enc[200];
            url_encode(req->org, enc, sizeof(enc));
            snprintf(bd.org_q, sizeof(bd.org_q), "&org=%s", enc);
        }
    }
    if (r >= 0) {
        bd.doc = sifa_doc_new("");
        r = build_blocks(&bd, err);
    }
    if (r >= 0) {
        /* a passage emptied on purpose leaves an empty paragraph: drop it */
        size_t kept = 0;
        for (size_t i = 0; i < bd.doc->nblocks; i++) {
            if (bd.doc->blocks[i].nruns == 0) {
                free(bd.doc->blocks[i].runs);
                continue;
            }
            bd.doc->blocks[kept++] = bd.doc->blocks[i];
        }
        bd.doc->nblocks = kept;
        for (size_t i = 0; i < bd.doc->nblocks; i++)
            if (bd.doc->blocks[i].kind == SIFA_BLOCK_TITLE) {
                free(bd.doc->title);
                bd.doc->title = sifa_doc_block_text(&bd.doc->blocks[i]);
                break;
            }
        if (ret_info != NULL)
            *ret_info = json_pack("{s:I,s:O,s:O,s:O}", "figures", (json_int_t)bd.figures, "missing", bd.missing,
                                  "denied", bd.denied, "stale", stale);
        *ret_doc = bd.doc;
    } else {
        sifa_doc_free(bd.doc);
    }
    json_decref(stale);
    json_decref(bd.items);
    json_decref(bd.denied);
    json_decref(bd.missing);
    return r;
}
