/* check.c — the report checker (see check.h): finds the figure claims of a report's text and
 * checks each against the figures it can be computed from. Layer: report (above stats).
 *
 * The text is validated first (size, line length, strict UTF-8), then read line by line (a line
 * is a paragraph) as code points. In each line a scanner finds the numbers, drops those that are
 * not figures (years, dates such as "12·4" and "12月底", ranges, sums, ordinals, codes glued to
 * letters, durations, anything inside 《》 or quotes) and keeps the rest with their unit,
 * multiplier (万, 亿), approximation (余, 超过, 以上 …) and label: the words just before the number
 * back to the clause start or the previous figure, normalised (quotes, spaces and 的 dropped,
 * full-width forms folded) and stripped of filler words at its end (为, 共计 …). The checks within
 * the text run on the line's claims; the database checks run once every line is read, one
 * sifa_stats_read per indicator involved.
 *
 * A false MISMATCH is worse than an UNVERIFIABLE, so a difference is a MISMATCH only when what the
 * claim is checked against is certain: parts that end their sentence and are not stages of one
 * chain (a sum above the whole, or below it when the parts say they are all: 其余, 合计); more
 * names before 等 N than N; a rate over the figure its name names in full; a change with both
 * years' figures (or the difference) in the sentence; one indicator named without doubt, read for
 * a year the caller gave or the report's opening states, over everything the report covers, no
 * other year or 累计 in the sentence, and no more than twice or half the written count. Anything
 * else can confirm a figure (OK) but not refute it.
 *
 * Invariants: a claim's positions (start, num, end, label_start) index the code points of its own
 * line and are only used while that line is processed; every growable buffer has a maximum
 * (the text, a line, the number of claims, a label, a context); values are exact decimals in
 * __int128 with every product checked for overflow — an overflow leaves a claim unverifiable. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "base/common.h"
#include "base/text.h"
#include "report/check.h"

typedef uint32_t cp_t;

#define LABEL_MAX 64    /* code points of a label kept for matching (its end) */
#define CONTEXT_MAX 512 /* code points of the paragraph before a label kept for matching */
#define QUOTE_MAX 80    /* code points of a claim's clause quoted in the result */
#define LOOKBACK 24     /* claims searched back for a rate's or a change's figures */
#define DENS_MAX 8      /* denominators tried for a rate */
#define GROUP_MAX 64    /* parts of one whole */
#define CANDS_MAX 4     /* indicators one claim may map to */
#define CHECKS_MAX 4    /* checks recorded on one claim */
#define DOCX_XML_MAX (64 * 1024 * 1024)

enum status { ST_UNVERIFIABLE, ST_OK, ST_MISMATCH };
static const char *const status_names[] = {"UNVERIFIABLE", "OK", "MISMATCH"};
enum approx { AP_EXACT, AP_AT_LEAST, AP_AT_MOST, AP_ABOUT };
static const char *const approx_names[] = {NULL, "at_least", "at_most", "about"};
enum ckind { CK_COUNT, CK_PERCENT, CK_OTHER }; /* money is a count in 元 */
enum check_type { CT_SUM, CT_TOTAL, CT_LIST, CT_RATE, CT_SHARE, CT_CHANGE, CT_INDICATOR };
static const char *const check_type_names[] = {"sum", "total", "list", "rate", "share", "change", "indicator"};

struct check {
    enum check_type type;
    enum status status;
    char computed[48];
    char *explanation; /* owned */
    const struct sifa_indicator *ind;
};

struct claim {
    int line, column;
    char *text, *quote; /* owned */
    int64_t r;          /* the written digits without the decimal point */
    int digits, mult;   /* value = r / 10^digits × 10^mult */
    char unit[24];      /* without the multiplier: "件", "元", "%" */
    char mult_text[12]; /* "亿", "万" or "" */
    enum approx approx;
    enum ckind kind;
    bool change; /* a year-on-year change ("同比下降14.88%") */
    int dir;     /* change: +1 up, -1 down */
    /* positions in its line, valid while the line is processed */
    size_t start, num, end, label_start;
    uint16_t depth;
    uint32_t sent;
    bool tail; /* the figure ends its clause */
    cp_t *label;
    size_t nlabel; /* normalised, fillers stripped at the end (owned) */
    cp_t *context;
    size_t ncontext;  /* normalised paragraph before the label (owned) */
    size_t nsentence; /* how much of the end of context is the label's own sentence */
    cp_t *subject;
    size_t nsubject; /* change: what changed (owned; may be empty) */
    bool previous_year, distributive, cumulative, other_year;
    int delta; /* "比上年增加50件": a difference from last year, +1 more or -1 less; 0 otherwise */
    long whole;     /* the whole of the 其中 group or 合计 list it is a part of, or -1 */
    long cur, prev; /* change: this year's and last year's figures found in the text, or -1 */
    struct check checks[CHECKS_MAX];
    size_t nchecks;
    const char *note; /* static */
};

/* One line being processed. qdepth: nesting of quotes and titles (an opener and its closer count
 * as inside); depth: of parentheses outside quotes (an opener counts as inside, a closer as
 * outside); sent, clause: index of the first code point of the sentence / clause. */
struct line {
    int no;
    const cp_t *c;
    const uint32_t *col; /* the column (from 1) of each code point in the line as written */
    size_t n;
    uint8_t *qdepth;
    uint16_t *depth;
    uint32_t *sent, *clause;
    size_t first_content;
    struct {
        size_t pos;
        int year;
    } years[64];
    size_t nyears;
};

struct read_cache {
    const struct sifa_indicator *ind;
    bool compare;
    bool denied;
    json_t *item; /* owned; NULL when denied */
};

struct name {
    cp_t *c;
    size_t n;
};

struct run {
    int year;
    bool year_known; /* given, or written in the report's opening (not last year by default) */
    const struct sifa_check_report_source *src;
    struct claim *claims;
    size_t n, cap;
    /* scratch for one line */
    cp_t *cp;
    uint8_t *qdepth;
    uint16_t *depth;
    uint32_t *sent, *clause, *col;
    cp_t *tmp;
    size_t lcap;
    /* the database side */
    struct sifa_org_tree *tree;
    struct sifa_period period;
    struct name *names; /* normalised indicator names, by index in the model */
    struct read_cache *cache;
    size_t ncache, cache_cap;
};

/* ---------- code points ---------- */

static bool is_digit(cp_t c)
{
    return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

static int digit_value(cp_t c)
{
    return c <= '9' ? (int)(c - '0') : (int)(c - 0xFF10);
}

static bool is_latin(cp_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xFF21 && c <= 0xFF3A) ||
           (c >= 0xFF41 && c <= 0xFF5A);
}

static bool is_space(cp_t c)
{
    return c == ' ' || c == '\t' || c == 0x3000 || c == 0xA0;
}

static bool is_sentence_end(cp_t c)
{
    return c == 0x3002 /* 。 */ || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B /* ! ? ; */ || c == ';' || c == '!' ||
           c == '?';
}

static bool is_clause_end(cp_t c)
{
    return is_sentence_end(c) || c == ',' || c == 0xFF0C || c == ':' || c == 0xFF1A || c == '|' || c == '\t';
}

static bool is_paren_open(cp_t c)
{
    return c == '(' || c == 0xFF08 || c == '[' || c == 0x3010 || c == 0x3014 || c == 0xFF3B;
}

static bool is_paren_close(cp_t c)
{
    return c == ')' || c == 0xFF09 || c == ']' || c == 0x3011 || c == 0x3015 || c == 0xFF3D;
}

/* The closer of a quote or title opener, or 0. */
static cp_t quote_closer(cp_t c)
{
    switch (c) {
    case 0x201C: return 0x201D; /* “ ” */
    case 0x2018: return 0x2019; /* ‘ ’ */
    case 0x300A: return 0x300B; /* 《 》 */
    case 0x3008: return 0x3009; /* 〈 〉 */
    case 0x300C: return 0x300D; /* 「 」 */
    case 0x300E: return 0x300F; /* 『 』 */
    default: return 0;
    }
}

static bool is_quote_close(cp_t c)
{
    return c == 0x201D || c == 0x2019 || c == 0x300B || c == 0x3009 || c == 0x300D || c == 0x300F;
}

/* Between two digits, a character that makes them a date, a range, a time, a fraction, a list
 * or a sum rather than one figure: "12·4", "2021-2025", "3至5", "10:30", "1/3", "1、2", "361+273". */
static bool is_connector(cp_t c)
{
    switch (c) {
    case '-': case 0x2010: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212: case '~': case 0xFF5E:
    case 0x301C: case '/': case 0xFF0F: case ':': case 0xFF1A: case 0x00B7: case 0x30FB: case 0x2022: case 0xFF65:
    case '.': case 0xFF0E: case ',': case 0x3001: case '+': case 0xFF0B: case '=': case 0xFF1D: case 0x00D7:
    case 0x00F7: case '*': case 0x81F3 /* 至 */: case 0x5230 /* 到 */:
        return true;
    default:
        return false;
    }
}

/* Quotes, title marks, spaces and the particle 的 are dropped and full-width ASCII folded, so
 * that labels and indicator names compare whatever marks a writer used ("公布的重大行政决策" and
 * "公布重大行政决策" name the same figure). 0: drop. */
static cp_t norm_cp(cp_t c)
{
    if (quote_closer(c) != 0 || is_quote_close(c) || c == '"' || c == '\'' || is_space(c) || c == 0x7684 /* 的 */)
        return 0;
    if (c >= 0xFF01 && c <= 0xFF5E)
        return c - 0xFEE0;
    return c;
}

static size_t normalize(const cp_t *in, size_t n, cp_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cp_t m = norm_cp(in[i]);
        if (m != 0)
            out[k++] = m;
    }
    return k;
}

static size_t utf8_put(cp_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static char *to_utf8(const cp_t *c, size_t n)
{
    char *s = sifa_xmalloc(4 * n + 1), *o = s;
    for (size_t i = 0; i < n; i++)
        o += utf8_put(c[i], o);
    *o = '\0';
    return s;
}

/* Decodes a UTF-8 literal (at most 16 code points) into out; returns its length. */
static size_t decode_word(const char *w, cp_t out[16])
{
    size_t len = strlen(w), off = 0, k = 0;
    while (off < len && k < 16) {
        uint32_t cp;
        size_t l = sifa_utf8_decode((const unsigned char *)w + off, len - off, &cp);
        assert(l > 0); /* our own literals */
        out[k++] = cp;
        off += l;
    }
    return k;
}

/* Length in code points of w when it occurs at c[i] within c[0..n), else 0. */
static size_t word_at(const cp_t *c, size_t n, size_t i, const char *w)
{
    cp_t wc[16];
    size_t k = decode_word(w, wc);
    if (i > n || n - i < k || memcmp(c + i, wc, k * sizeof(cp_t)) != 0)
        return 0;
    return k;
}

/* Length of w when it ends right before c[i], else 0. */
static size_t word_before(const cp_t *c, size_t i, const char *w)
{
    cp_t wc[16];
    size_t k = decode_word(w, wc);
    if (k > i || memcmp(c + i - k, wc, k * sizeof(cp_t)) != 0)
        return 0;
    return k;
}

/* The longest of words at c[i] (length, and its index in *ret_index), or 0. */
static size_t longest_at(const cp_t *c, size_t n, size_t i, const char *const *words, size_t nwords, size_t *ret_index)
{
    size_t best = 0;
    for (size_t k = 0; k < nwords; k++) {
        size_t l = word_at(c, n, i, words[k]);
        if (l > best) {
            best = l;
            if (ret_index)
                *ret_index = k;
        }
    }
    return best;
}

static size_t longest_before(const cp_t *c, size_t i, const char *const *words, size_t nwords, size_t *ret_index)
{
    size_t best = 0;
    for (size_t k = 0; k < nwords; k++) {
        size_t l = word_before(c, i, words[k]);
        if (l > best) {
            best = l;
            if (ret_index)
                *ret_index = k;
        }
    }
    return best;
}

static bool contains(const cp_t *hay, size_t nh, const cp_t *needle, size_t nn)
{
    if (nn == 0)
        return true;
    for (size_t i = 0; i + nn <= nh; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nn * sizeof(cp_t)) == 0)
            return true;
    return false;
}

static bool contains_word(const cp_t *hay, size_t nh, const char *w)
{
    cp_t wc[16];
    size_t k = decode_word(w, wc);
    return contains(hay, nh, wc, k);
}

static bool equals_word(const cp_t *s, size_t n, const char *w)
{
    return word_at(s, n, 0, w) == n && n > 0;
}

static size_t common_suffix(const cp_t *a, size_t na, const cp_t *b, size_t nb)
{
    size_t k = 0;
    while (k < na && k < nb && a[na - 1 - k] == b[nb - 1 - k])
        k++;
    return k;
}

/* ---------- words ---------- */

/* Kinds of what follows a number. U_NONE: not a figure (time, date, age, rank). */
enum ukind { U_COUNT, U_PERCENT, U_OTHER, U_NONE };
static const struct {
    const char *w;
    enum ukind kind;
} units[] = {
    {"个百分点", U_OTHER}, {"个月", U_NONE}, {"个工作日", U_NONE}, {"个小时", U_NONE}, {"个星期", U_NONE},
    {"个季度", U_NONE}, {"件次", U_COUNT}, {"人次", U_COUNT}, {"户次", U_COUNT}, {"个次", U_COUNT},
    {"场次", U_COUNT}, {"家次", U_COUNT}, {"批次", U_COUNT}, {"车次", U_COUNT}, {"平方公里", U_COUNT},
    {"平方米", U_COUNT}, {"公里", U_COUNT}, {"公顷", U_COUNT}, {"公斤", U_COUNT}, {"千克", U_COUNT},
    {"千米", U_COUNT}, {"学时", U_COUNT}, {"课时", U_COUNT}, {"小时", U_NONE}, {"分钟", U_NONE},
    {"季度", U_NONE}, {"年", U_NONE}, {"月", U_NONE}, {"日", U_NONE}, {"号", U_NONE}, {"时", U_NONE},
    {"点", U_NONE}, {"分", U_NONE}, {"秒", U_NONE}, {"周", U_NONE}, {"天", U_NONE}, {"岁", U_NONE},
    {"届", U_NONE}, {"级", U_NONE}, {"版", U_NONE}, {"楼", U_NONE}, {"度", U_NONE}, {"寸", U_NONE},
    {"星", U_NONE}, {"代", U_NONE}, {"件", U_COUNT}, {"人", U_COUNT}, {"名", U_COUNT}, {"个", U_COUNT},
    {"家", U_COUNT}, {"次", U_COUNT}, {"期", U_COUNT}, {"条", U_COUNT}, {"份", U_COUNT}, {"项", U_COUNT},
    {"场", U_COUNT}, {"起", U_COUNT}, {"户", U_COUNT}, {"所", U_COUNT}, {"批", U_COUNT}, {"处", U_COUNT},
    {"座", U_COUNT}, {"支", U_COUNT}, {"篇", U_COUNT}, {"部", U_COUNT}, {"本", U_COUNT}, {"册", U_COUNT},
    {"套", U_COUNT}, {"台", U_COUNT}, {"辆", U_COUNT}, {"宗", U_COUNT}, {"笔", U_COUNT}, {"位", U_COUNT},
    {"例", U_COUNT}, {"类", U_COUNT}, {"种", U_COUNT}, {"轮", U_COUNT}, {"组", U_COUNT}, {"队", U_COUNT},
    {"只", U_COUNT}, {"间", U_COUNT}, {"张", U_COUNT}, {"堂", U_COUNT}, {"节", U_COUNT}, {"封", U_COUNT},
    {"单", U_COUNT}, {"道", U_COUNT}, {"块", U_COUNT}, {"棵", U_COUNT}, {"株", U_COUNT}, {"亩", U_COUNT},
    {"米", U_COUNT}, {"吨", U_COUNT}, {"斤", U_COUNT}, {"门", U_COUNT}, {"款", U_COUNT}, {"幅", U_COUNT},
    {"首", U_COUNT}, {"集", U_COUNT}, {"片", U_COUNT}, {"回", U_COUNT}, {"遍", U_COUNT}, {"元", U_COUNT},
    {"%", U_PERCENT}, {"%", U_PERCENT}, {"‰", U_OTHER}, {"倍", U_OTHER},
};

static const struct {
    const char *w;
    int exp;
} multipliers[] = {{"万亿", 12}, {"千万", 7}, {"百万", 6}, {"亿", 8}, {"万", 4}};

static const struct {
    const char *w;
    enum approx a;
} prefixes[] = {
    {"不超过", AP_AT_MOST}, {"不少于", AP_AT_LEAST}, {"不低于", AP_AT_LEAST}, {"不高于", AP_AT_MOST},
    {"超过", AP_AT_LEAST},  {"突破", AP_AT_LEAST},   {"多于", AP_AT_LEAST},   {"高于", AP_AT_LEAST},
    {"大于", AP_AT_LEAST},  {"至少", AP_AT_LEAST},   {"不足", AP_AT_MOST},    {"不到", AP_AT_MOST},
    {"低于", AP_AT_MOST},   {"少于", AP_AT_MOST},    {"小于", AP_AT_MOST},    {"至多", AP_AT_MOST},
    {"最多", AP_AT_MOST},   {"将近", AP_ABOUT},      {"接近", AP_ABOUT},      {"大约", AP_ABOUT},
    {"约为", AP_ABOUT},     {"约有", AP_ABOUT},      {"超", AP_AT_LEAST},     {"逾", AP_AT_LEAST},
    {"近", AP_ABOUT},       {"约", AP_ABOUT},
};

static const struct {
    const char *w;
    enum approx a;
} suffixes[] = {{"以上", AP_AT_LEAST}, {"以下", AP_AT_MOST}, {"以内", AP_AT_MOST},
                {"左右", AP_ABOUT},    {"上下", AP_ABOUT},   {"余", AP_AT_LEAST}};

/* Stripped from the end of a label: they stand between a name and its figure. */
static const char *const trailing_fillers[] = {
    "为", "达", "达到", "共计", "总计", "合计", "累计", "共有", "共", "计", "有", "是", "保持", "保持在",
    "稳定在", "均为", "均达", "已达", "了", "的", "分别为", "分别是", "分别", "总数为", "总数",
};

/* Words that may stand before an indicator's name without changing what it counts. */
static const char *const leading_fillers[] = {
    "其中", "另有", "另", "同时", "此外", "并", "还", "共计", "共有", "共", "总共", "合计", "总计", "累计",
    "全市", "我市", "本市", "全县", "全区", "全年", "今年", "当年", "年内", "目前", "现有", "已", "均",
    "实现", "完成", "开展", "推动", "各级", "全市各级",
};

/* "全市各级人民调解组织共调处矛盾纠纷12033件": a subject for the whole area, then an adverb, then
 * the indicator's name — the name counts for the whole area. A subject such as 本局 narrows it. */
static const char *const whole_area_words[] = {"全市", "我市", "全县", "全区", "本市", "全镇", "全乡", "全街道", "各级"};
static const char *const narrowing_words[] = {"本局", "我局", "本部门", "本单位", "本级", "机关"};
static const char *const adverbs[] = {"共", "共计", "总共", "合计", "累计", "全年", "今年", "已", "均"};

/* After a figure, words that join the next figure's name to it. */
static const char *const conjunctions[] = {"和", "及", "以及", "与", "并"};

static const struct {
    const char *w;
    int dir;
} directions[] = {{"增长", 1},  {"上升", 1},  {"增加", 1},  {"提高", 1},  {"上涨", 1},  {"增幅", 1},  {"下降", -1},
                  {"减少", -1}, {"降低", -1}, {"下滑", -1}, {"回落", -1}, {"降幅", -1}, {"减幅", -1}};

static const char *const change_markers[] = {
    "同比",       "较上年同期", "比上年同期", "较去年同期", "比去年同期", "较上年", "比上年",
    "较去年",     "比去年",     "较上一年",   "比上一年",   "与上年相比", "与去年相比", "与上年同期相比",
};

static const char *const previous_year_words[] = {"上年", "去年", "上一年", "前一年", "同期"};

static const char *const total_words[] = {"合计", "共计", "总计", "共", "合计为", "共计为", "总计为", "共为",
                                          "总数为", "总数", "合计达", "共计达"};

static const char *const exhaustive_words[] = {"其他", "其它", "其余", "剩余", "余下", "另有", "另"};

/* Stages of one piece of work: parts named by different stages ("调解结案15件,调解成功8件") are
 * steps of a chain, each a subset of the one before, not parts of a whole. */
static const char *const stage_words[] = {"受理", "立案", "立项", "办理", "审结", "结案", "办结", "成功",
                                          "化解", "履行", "表彰", "通过", "合格", "完成", "答复", "反馈",
                                          "申报", "申请", "审查", "确认", "撤回", "撤销"};

/* The index of the first stage word in a label, or -1. */
static long stage_of(const cp_t *label, size_t n)
{
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(stage_words); k++)
        if (contains_word(label, n, stage_words[k]))
            return (long)k;
    return -1;
}

/* A percentage beside a part that gives its share of the whole: 占比, 比重, 占…. */
static bool share_label(const cp_t *label, size_t n)
{
    return word_before(label, n, "占比") || word_before(label, n, "比重") || (n >= 1 && label[0] == 0x5360 /* 占 */);
}

struct claim;
/* A percentage that comments on the figure before it (a share, a year-on-year change) rather
 * than being a figure of the list it stands in. */
static bool annotation(const struct claim *c);

/* Strips leading fillers from s[0..n): the number of code points they cover. */
static size_t strip_leading(const cp_t *s, size_t n)
{
    size_t off = 0, w;
    while (off < n && (w = longest_at(s, n, off, leading_fillers, SIFA_ARRAY_SIZE(leading_fillers), NULL)) > 0)
        off += w;
    return off;
}

/* ---------- exact decimals ---------- */

static __int128 pow10q(int k)
{
    __int128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

static bool mulq(__int128 a, __int128 b, __int128 *ret)
{
    return !__builtin_mul_overflow(a, b, ret);
}

static void decimal_text(__int128 q, int digits, char *out, size_t size)
{
    if (q > INT64_MAX || q < -INT64_MAX) {
        snprintf(out, size, "?");
        return;
    }
    sifa_decimal_text((struct sifa_decimal){.r = (int64_t)q, .digits = digits}, out, size);
}

/* The claim's value × 10^scale as an integer (scale >= digits − mult), or false on overflow. */
static bool claim_scaled(const struct claim *c, int scale, __int128 *ret)
{
    int e = scale - (c->digits - c->mult);
    return e >= 0 && e <= 36 && mulq(c->r, pow10q(e), ret);
}

/* Judges claim c against the exact value num/den (den > 0) and writes the value as c should
 * write it (its digits, rounded half up) into computed. rounded_dv >= 0 when num/den is itself
 * a figure rounded to rounded_dv decimals: a claim written with more digits, or one whose
 * rounding depends on what was rounded away (exactly half way), cannot be judged. */
static enum status judge(const struct claim *c, __int128 num, __int128 den, int rounded_dv, char *computed, size_t size)
{
    computed[0] = '\0';
    if (den <= 0)
        return ST_UNVERIFIABLE;
    int t = c->digits - c->mult;
    if (rounded_dv >= 0 && t > rounded_dv)
        return ST_UNVERIFIABLE;
    __int128 n = num, d = den;
    if (t >= 0 ? !mulq(n, pow10q(t), &n) : !mulq(d, pow10q(-t), &d))
        return ST_UNVERIFIABLE;
    __int128 q = n / d, rem = n % d;
    if (rem < 0)
        rem = -rem;
    bool half = rem == d - rem;
    if (rem >= d - rem)
        q += n < 0 ? -1 : 1; /* 四舍五入: half away from zero */
    if (q > INT64_MAX || q < -INT64_MAX)
        return ST_UNVERIFIABLE;
    decimal_text(q, c->digits, computed, size);
    if (rounded_dv >= 0 && half)
        return ST_UNVERIFIABLE;
    __int128 w = c->r, wd;
    switch (c->approx) {
    case AP_EXACT:
        return q == w ? ST_OK : ST_MISMATCH;
    case AP_ABOUT:
        return q == w ? ST_OK : ST_UNVERIFIABLE;
    case AP_AT_LEAST:
        if (!mulq(w, d, &wd))
            return ST_UNVERIFIABLE;
        return n >= wd ? ST_OK : ST_MISMATCH;
    case AP_AT_MOST:
        if (!mulq(w, d, &wd))
            return ST_UNVERIFIABLE;
        return n <= wd ? ST_OK : ST_MISMATCH;
    }
    return ST_UNVERIFIABLE;
}

/* "-14.88", "178036420.00" → integer and digits. */
static bool parse_decimal(const char *s, __int128 *ret, int *ret_digits)
{
    if (s == NULL)
        return false;
    bool neg = *s == '-';
    if (neg)
        s++;
    __int128 v = 0;
    int digits = 0, n = 0;
    bool point = false;
    for (; *s; s++) {
        if (*s == '.' && !point) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9' || ++n > 30)
            return false;
        v = v * 10 + (*s - '0');
        if (point)
            digits++;
    }
    if (n == 0)
        return false;
    *ret = neg ? -v : v;
    *ret_digits = digits;
    return true;
}

/* ---------- claims ---------- */

static void check_add(struct claim *c, enum check_type type, enum status st, const char *computed,
                      const struct sifa_indicator *ind, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void check_add(struct claim *c, enum check_type type, enum status st, const char *computed,
                      const struct sifa_indicator *ind, const char *fmt, ...)
{
    if (c->nchecks >= CHECKS_MAX)
        return;
    struct check *k = &c->checks[c->nchecks++];
    k->type = type;
    k->status = st;
    snprintf(k->computed, sizeof(k->computed), "%s", computed ? computed : "");
    k->ind = ind;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    k->explanation = sifa_xstrdup(buf);
}

static void claim_release(struct claim *c)
{
    free(c->text);
    free(c->quote);
    free(c->label);
    free(c->context);
    free(c->subject);
    for (size_t i = 0; i < c->nchecks; i++)
        free(c->checks[i].explanation);
}

static bool same_unit(const struct claim *a, const struct claim *b)
{
    return strcmp(a->unit, b->unit) == 0;
}

static bool annotation(const struct claim *c)
{
    return c->kind == CK_PERCENT && (c->change || share_label(c->label, c->nlabel));
}

/* A plain figure a check may take as an operand: a count, exact, not a change. */
static bool operand(const struct claim *c)
{
    return c->kind == CK_COUNT && !c->change && c->approx == AP_EXACT && c->delta == 0;
}

/* a compared with b (both counts of the same unit): <0, 0, >0; false on overflow. */
static bool compare_claims(const struct claim *a, const struct claim *b, int *ret)
{
    int s = a->digits - a->mult > b->digits - b->mult ? a->digits - a->mult : b->digits - b->mult;
    __int128 x, y;
    if (!claim_scaled(a, s, &x) || !claim_scaled(b, s, &y))
        return false;
    *ret = x < y ? -1 : x > y;
    return true;
}

/* ---------- lines ---------- */

static void line_analyse(struct line *L)
{
    cp_t stack[32];
    size_t sp = 0;
    uint16_t d = 0;
    uint32_t s0 = 0, c0 = 0;
    for (size_t i = 0; i < L->n; i++) {
        cp_t ch = L->c[i];
        if (ch == '"') {
            if (sp > 0 && stack[sp - 1] == '"') {
                L->qdepth[i] = (uint8_t)sp;
                sp--;
            } else {
                if (sp < SIFA_ARRAY_SIZE(stack))
                    stack[sp++] = '"';
                L->qdepth[i] = (uint8_t)sp;
            }
        } else if (quote_closer(ch) != 0) {
            if (sp < SIFA_ARRAY_SIZE(stack))
                stack[sp++] = quote_closer(ch);
            L->qdepth[i] = (uint8_t)sp;
        } else if (is_quote_close(ch)) {
            L->qdepth[i] = (uint8_t)sp;
            for (size_t k = sp; k-- > 0;)
                if (stack[k] == ch) {
                    sp = k;
                    break;
                }
        } else {
            L->qdepth[i] = (uint8_t)sp;
        }
        bool quoted = L->qdepth[i] > 0;
        if (!quoted && is_paren_open(ch) && d < 1000)
            d++;
        else if (!quoted && is_paren_close(ch) && d > 0)
            d--;
        L->depth[i] = d;
        L->sent[i] = s0;
        L->clause[i] = c0;
        if (!quoted && is_sentence_end(ch))
            s0 = c0 = (uint32_t)(i + 1);
        else if (!quoted && is_clause_end(ch))
            c0 = (uint32_t)(i + 1);
    }
    size_t f = 0;
    while (f < L->n && (is_space(L->c[f]) || L->c[f] == '#' || L->c[f] == '>' || L->c[f] == '*' || L->c[f] == '-' ||
                        L->c[f] == '+' || L->c[f] == '|'))
        f++;
    L->first_content = f;
}

static int claim_new(struct run *x, struct claim **ret, struct sifa_error *err)
{
    if (x->n >= SIFA_CHECK_REPORT_CLAIMS_MAX)
        return sifa_error_set_details(err, SIFA_ELIMIT, "report_too_many_claims",
                                      json_pack("{s:i}", "max", SIFA_CHECK_REPORT_CLAIMS_MAX),
                                      "报告中的数字超过 %d 处,无法核查", SIFA_CHECK_REPORT_CLAIMS_MAX);
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->claims = sifa_xrealloc(x->claims, x->cap * sizeof(*x->claims));
    }
    struct claim *c = &x->claims[x->n++];
    memset(c, 0, sizeof(*c));
    c->whole = c->cur = c->prev = -1;
    *ret = c;
    return 0;
}

/* Fills the claim's label, context, quote and flags from its line. prev_end: the end of the
 * previous claim in the line (0 when none). */
static void claim_label(struct run *x, struct line *L, struct claim *c, size_t prev_end, bool has_prev)
{
    const cp_t *s = L->c;
    size_t ps = c->start, lb = L->clause[ps];
    bool after = false;
    if (has_prev && prev_end > lb && prev_end <= ps) {
        lb = prev_end;
        after = true;
    }
    for (;;) {
        if (lb < ps && (is_space(s[lb]) || s[lb] == 0x3001 || is_paren_open(s[lb]) || is_paren_close(s[lb]))) {
            lb++;
            continue;
        }
        size_t w;
        if (after && (w = longest_at(s, ps, lb, conjunctions, SIFA_ARRAY_SIZE(conjunctions), NULL)) > 0) {
            lb += w;
            continue;
        }
        break;
    }
    c->label_start = lb;
    /* the raw label, normalised */
    size_t nl = normalize(s + lb, ps - lb, x->tmp);
    c->previous_year = false;
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(previous_year_words); k++)
        c->previous_year = c->previous_year || contains_word(x->tmp, nl, previous_year_words[k]);
    c->distributive = contains_word(x->tmp, nl, "分别");
    c->cumulative = contains_word(x->tmp, nl, "累计");
    size_t w;
    while (nl > 0 && (w = longest_before(x->tmp, nl, trailing_fillers, SIFA_ARRAY_SIZE(trailing_fillers), NULL)) > 0)
        nl -= w;
    if (c->previous_year && c->kind == CK_COUNT) {
        /* "比上年增加50件" is the difference, not last year's figure */
        for (size_t k = 0; k < SIFA_ARRAY_SIZE(directions) && c->delta == 0; k++)
            if (word_before(x->tmp, nl, directions[k].w))
                c->delta = directions[k].dir;
        if (c->delta == 0 && word_before(x->tmp, nl, "多"))
            c->delta = 1;
        if (c->delta == 0 && word_before(x->tmp, nl, "少"))
            c->delta = -1;
        if (c->delta != 0)
            c->previous_year = false;
    }
    size_t keep = nl > LABEL_MAX ? LABEL_MAX : nl;
    c->label = sifa_xmalloc((keep ? keep : 1) * sizeof(cp_t));
    memcpy(c->label, x->tmp + nl - keep, keep * sizeof(cp_t));
    c->nlabel = keep;
    /* the paragraph before the label, and how much of it is the label's sentence */
    size_t ss = L->sent[ps];
    size_t from = lb > 4 * CONTEXT_MAX ? lb - 4 * CONTEXT_MAX : 0, sfrom = ss > from ? ss : from;
    size_t nc = normalize(s + from, lb - from, x->tmp);
    size_t nsent = normalize(s + sfrom, lb - sfrom, x->tmp + nc); /* both fit: 8 × CONTEXT_MAX < lcap */
    c->cumulative = c->cumulative || contains_word(x->tmp + nc, nsent, "以来");
    keep = nc > CONTEXT_MAX ? CONTEXT_MAX : nc;
    c->context = sifa_xmalloc((keep ? keep : 1) * sizeof(cp_t));
    memcpy(c->context, x->tmp + nc - keep, keep * sizeof(cp_t));
    c->ncontext = keep;
    c->nsentence = nsent < keep ? nsent : keep;
    for (size_t k = 0; k < L->nyears; k++)
        if (L->years[k].pos >= ss && L->years[k].pos < ps && L->years[k].year != x->year)
            c->other_year = true;
    /* the quote: its clause (a window around the figure when the clause is long) */
    size_t qs = L->clause[ps], qe = c->end;
    while (qe < L->n && !(L->qdepth[qe] == 0 && is_clause_end(s[qe])))
        qe++;
    while (qs < ps && is_space(s[qs]))
        qs++;
    if (qe - qs > QUOTE_MAX) {
        if (ps > qs + QUOTE_MAX / 2)
            qs = ps - QUOTE_MAX / 2;
        if (qe > qs + QUOTE_MAX)
            qe = qs + QUOTE_MAX > c->end ? qs + QUOTE_MAX : c->end;
    }
    c->quote = to_utf8(s + qs, qe - qs);
}

/* A percentage whose label ends in a direction after a year-on-year marker is a change; with a
 * bare direction ("下降14.88%") it is one when the figure before it is last year's. */
static void claim_change(struct run *x, struct claim *c, size_t index, size_t first)
{
    size_t di = 0, dl = 0;
    for (size_t k = 0; k < SIFA_ARRAY_SIZE(directions); k++) {
        size_t l = word_before(c->label, c->nlabel, directions[k].w);
        if (l > dl) {
            dl = l;
            di = k;
        }
    }
    if (dl == 0)
        return;
    size_t rest = c->nlabel - dl;
    if (word_before(c->label, rest, "同期") && !word_before(c->label, rest, "上年同期") &&
        !word_before(c->label, rest, "去年同期"))
        rest -= 2;
    size_t ml = longest_before(c->label, rest, change_markers, SIFA_ARRAY_SIZE(change_markers), NULL);
    if (ml == 0 && rest > 0)
        return; /* "增长20%" of something, against something unsaid */
    if (ml == 0) {
        /* "……较上年的242件下降14.88%": the figure just before is last year's */
        if (index <= first)
            return;
        struct claim *p = &x->claims[index - 1];
        if (!p->previous_year || p->sent != c->sent || !operand(p))
            return;
        c->prev = (long)index - 1;
    }
    c->change = true;
    c->dir = directions[di].dir;
    size_t ns = rest - ml;
    while (ns > 0 && (c->label[ns - 1] == 0x7684 /* 的 */ || c->label[ns - 1] == ','))
        ns--;
    size_t off = strip_leading(c->label, ns);
    c->nsubject = ns - off;
    c->subject = sifa_xmalloc((c->nsubject ? c->nsubject : 1) * sizeof(cp_t));
    memcpy(c->subject, c->label + off, c->nsubject * sizeof(cp_t));
}

/* Finds the figures of one line. */
static int scan_line(struct run *x, struct line *L, struct sifa_error *err)
{
    const cp_t *c = L->c;
    size_t n = L->n, prev_end = 0;
    bool has_prev = false;
    size_t first = x->n;
    for (size_t i = 0; i < n;) {
        if (!is_digit(c[i])) {
            i++;
            continue;
        }
        size_t s = i, j = i;
        int64_t r = 0;
        int nd = 0, dec = 0;
        bool figure = true;
        while (j < n && is_digit(c[j])) {
            if (nd < 15)
                r = r * 10 + digit_value(c[j]);
            else
                figure = false;
            nd++;
            j++;
        }
        int intd = nd;
        bool grouped = false;
        if (intd <= 3)
            while (j + 3 < n && c[j] == ',' && is_digit(c[j + 1]) && is_digit(c[j + 2]) && is_digit(c[j + 3]) &&
                   !(j + 4 < n && is_digit(c[j + 4]))) {
                for (size_t k = 1; k <= 3; k++) {
                    if (nd < 15)
                        r = r * 10 + digit_value(c[j + k]);
                    else
                        figure = false;
                    nd++;
                }
                j += 4;
                grouped = true;
            }
        if (j + 1 < n && (c[j] == '.' || c[j] == 0xFF0E) && is_digit(c[j + 1])) {
            j++;
            while (j < n && is_digit(c[j])) {
                if (nd < 15 && dec < 6) {
                    r = r * 10 + digit_value(c[j]);
                    nd++;
                    dec++;
                } else {
                    figure = false;
                }
                j++;
            }
        }
        /* glued to another number: a date, a range, a time, a sum */
        if (j + 1 < n && is_connector(c[j]) && is_digit(c[j + 1])) {
            figure = false;
            while (j + 1 < n && is_connector(c[j]) && is_digit(c[j + 1])) {
                j++;
                while (j < n && is_digit(c[j]))
                    j++;
            }
        }
        size_t num_end = j;
        /* part of a code ("5G", "H5"), signed, an ordinal ("第2批", "1.", "(1)"), quoted */
        if (s > 0 && (is_latin(c[s - 1]) || c[s - 1] == '_' || c[s - 1] == '#' || c[s - 1] == '@' ||
                      c[s - 1] == '-' || c[s - 1] == 0x2212 || c[s - 1] == '.' || c[s - 1] == '/' || c[s - 1] == '\\'))
            figure = false;
        if (num_end < n && (is_latin(c[num_end]) || c[num_end] == '_' || c[num_end] == '@'))
            figure = false;
        size_t p = s;
        while (p > 0 && is_space(c[p - 1]))
            p--;
        if (p > 0 && c[p - 1] == 0x7B2C /* 第 */)
            figure = false;
        if (s == L->first_content && dec == 0 && num_end < n &&
            (c[num_end] == '.' || c[num_end] == 0xFF0E || c[num_end] == 0x3001 || c[num_end] == ')' ||
             c[num_end] == 0xFF09 || c[num_end] == ',' || c[num_end] == 0xFF0C || c[num_end] == ' '))
            figure = false;
        if (s > 0 && (c[s - 1] == '(' || c[s - 1] == 0xFF08 || c[s - 1] == '[' || c[s - 1] == 0x3010) &&
            num_end < n && (c[num_end] == ')' || c[num_end] == 0xFF09 || c[num_end] == ']' || c[num_end] == 0x3011))
            figure = false;
        bool quoted = L->qdepth[s] > 0;
        /* what follows: 余/多, 万/亿, the unit, 以上/左右 … */
        size_t k = num_end;
        while (k < n && (c[k] == ' ' || c[k] == '*'))
            k++;
        enum approx ap = AP_EXACT;
        int mult = 0;
        const char *mult_text = "";
        size_t w, idx = 0, mi = 0, ml = 0;
        if ((w = word_at(c, n, k, "余")) > 0 || (w = word_at(c, n, k, "多")) > 0) { /* 50余件 */
            ap = AP_AT_LEAST;
            k += w;
        }
        for (size_t m = 0; m < SIFA_ARRAY_SIZE(multipliers); m++) {
            size_t l = word_at(c, n, k, multipliers[m].w);
            if (l > ml) {
                ml = l;
                mi = m;
            }
        }
        if (ml > 0) {
            mult = multipliers[mi].exp;
            mult_text = multipliers[mi].w;
            k += ml;
            if ((w = word_at(c, n, k, "余")) > 0 || (w = word_at(c, n, k, "多")) > 0) { /* 5万余人 */
                ap = AP_AT_LEAST;
                k += w;
            }
        }
        size_t ul = 0;
        for (size_t u = 0; u < SIFA_ARRAY_SIZE(units); u++) {
            size_t l = word_at(c, n, k, units[u].w);
            if (l > ul) {
                ul = l;
                idx = u;
            }
        }
        /* a year: "2021年" (kept to notice sentences about another year) */
        if (ul > 0 && strcmp(units[idx].w, "年") == 0 && intd == 4 && dec == 0 && !grouped && r >= 1900 &&
            r <= 2100 && num_end == s + 4 && !quoted && L->nyears < SIFA_ARRAY_SIZE(L->years)) {
            L->years[L->nyears].pos = s;
            L->years[L->nyears].year = (int)r;
            L->nyears++;
        }
        if (!figure || quoted || ul == 0 || units[idx].kind == U_NONE) {
            i = j > s ? j : s + 1;
            continue;
        }
        enum ukind uk = units[idx].kind;
        char unit[24];
        snprintf(unit, sizeof(unit), "%s", units[idx].w);
        if (strcmp(unit, "%") == 0)
            snprintf(unit, sizeof(unit), "%%");
        k += ul;
        /* "件/日" */
        if (uk == U_COUNT && k + 1 < n && (c[k] == '/' || c[k] == 0xFF0F)) {
            static const char *const per[] = {"日", "天", "月", "年", "人", "件", "次"};
            size_t pi = 0;
            if (longest_at(c, n, k + 1, per, SIFA_ARRAY_SIZE(per), &pi) > 0) {
                size_t used = strlen(unit);
                snprintf(unit + used, sizeof(unit) - used, "/%s", per[pi]);
                k += 2;
            }
        }
        size_t si = 0, sl = 0;
        for (size_t q = 0; q < SIFA_ARRAY_SIZE(suffixes); q++) {
            size_t l = word_at(c, n, k, suffixes[q].w);
            if (l > sl) {
                sl = l;
                si = q;
            }
        }
        if (sl > 0) {
            ap = ap == AP_EXACT || ap == suffixes[si].a ? suffixes[si].a : AP_ABOUT;
            k += sl;
        }
        /* before: 超过, 近, 约 … */
        size_t ps = s, pl = 0, pi = 0;
        for (size_t q = 0; q < SIFA_ARRAY_SIZE(prefixes); q++) {
            size_t l = word_before(c, s, prefixes[q].w);
            if (l > pl) {
                pl = l;
                pi = q;
            }
        }
        if (pl > 0 && !(has_prev && s - pl < prev_end)) {
            ps = s - pl;
            ap = ap == AP_EXACT || ap == prefixes[pi].a ? prefixes[pi].a : AP_ABOUT;
        }
        struct claim *cl = NULL;
        int rc = claim_new(x, &cl, err);
        if (rc < 0)
            return rc;
        cl->line = L->no;
        cl->column = (int)L->col[ps];
        cl->start = ps;
        cl->num = s;
        cl->end = k;
        cl->r = r;
        cl->digits = dec;
        cl->mult = mult;
        snprintf(cl->unit, sizeof(cl->unit), "%s", unit);
        snprintf(cl->mult_text, sizeof(cl->mult_text), "%s", mult_text);
        cl->approx = ap;
        cl->kind = uk == U_COUNT ? CK_COUNT : uk == U_PERCENT ? CK_PERCENT : CK_OTHER;
        cl->depth = L->depth[s];
        cl->sent = L->sent[s];
        size_t t = k;
        while (t < n && is_space(c[t]))
            t++;
        if (t < n && is_paren_open(c[t]) && L->qdepth[t] == 0) {
            /* "60件(其中……)," still ends its clause: skip the note */
            size_t q = t + 1;
            while (q < n && L->depth[q] > cl->depth)
                q++;
            if (q < n && is_paren_close(c[q]))
                for (t = q + 1; t < n && is_space(c[t]);)
                    t++;
        }
        cl->tail = t == n || is_clause_end(c[t]) || c[t] == 0x3001 || is_paren_close(c[t]) || c[t] == '.';
        cl->text = to_utf8(c + ps, k - ps);
        claim_label(x, L, cl, prev_end, has_prev);
        if (cl->kind == CK_PERCENT)
            claim_change(x, cl, x->n - 1, first);
        prev_end = k;
        has_prev = true;
        i = k;
    }
    return 0;
}

/* ---------- checks within the text ---------- */

/* Clauses after the last part of a group up to its end hold nothing but shares and changes. */
static bool group_ends_there(const struct run *x, const struct line *L, size_t from, size_t e, size_t after)
{
    const cp_t *c = L->c;
    for (size_t p = from; p < e;) {
        if (is_clause_end(c[p]) || is_space(c[p]) || is_paren_close(c[p]) || c[p] == 0x3001 || c[p] == '.') {
            p++;
            continue;
        }
        /* a clause with text: fine only if it holds a percentage */
        size_t q = p;
        while (q < e && !(L->qdepth[q] == 0 && is_clause_end(c[q])))
            q++;
        bool pct = false;
        for (size_t k = after; k < x->n && x->claims[k].start < q; k++) {
            const struct claim *P = &x->claims[k];
            if (P->start >= p && P->end <= q && annotation(P))
                pct = true;
        }
        if (!pct)
            return false;
        p = q;
    }
    return true;
}

static void parts_text(const struct run *x, const size_t *parts, size_t np, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < np && used < size; i++) {
        if (i == 8 && np > 9) {
            used += (size_t)snprintf(out + used, size - used, " + …(共 %zu 项)", np);
            break;
        }
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " + " : "", x->claims[parts[i]].text);
    }
}

/* Sums parts against whole. exhaustive: the parts are the whole by construction (合计, 其余);
 * strict: nothing but the parts follows in the group. */
static void judge_sum(struct run *x, long wi, const size_t *parts, size_t np, bool strict, bool exhaustive,
                      enum check_type type)
{
    struct claim *W = &x->claims[wi];
    int sc = W->digits - W->mult;
    for (size_t i = 0; i < np; i++) {
        const struct claim *P = &x->claims[parts[i]];
        if (P->digits - P->mult > sc)
            sc = P->digits - P->mult;
    }
    __int128 sum = 0, whole = 0, v, tol2 = 0;
    bool ok = claim_scaled(W, sc, &whole);
    if (W->mult > 0)
        tol2 += pow10q(sc - (W->digits - W->mult));
    for (size_t i = 0; i < np && ok; i++) {
        const struct claim *P = &x->claims[parts[i]];
        ok = claim_scaled(P, sc, &v) && !__builtin_add_overflow(sum, v, &sum);
        if (P->mult > 0)
            tol2 += pow10q(sc - (P->digits - P->mult));
    }
    char list[512], computed[48];
    parts_text(x, parts, np, list, sizeof(list));
    if (!ok) {
        check_add(W, type, ST_UNVERIFIABLE, NULL, NULL, "%s:数值过大,无法计算", list);
        return;
    }
    /* judged only for the sum as the whole would write it: the comparison below allows for rounding */
    (void)(sc >= 0 ? judge(W, sum, pow10q(sc), -1, computed, sizeof(computed))
                   : judge(W, sum * pow10q(-sc), 1, -1, computed, sizeof(computed)));
    __int128 diff = sum - whole, adiff = diff < 0 ? -diff : diff;
    const char *unit = W->unit;
    if (type == CT_SUM && diff > 0 && tol2 == 0) {
        /* "其中男性800人,女性143人,未成年人5人": the first parts make the whole, the rest is
         * another breakdown of it */
        __int128 prefix = 0;
        for (size_t i = 0; i + 1 < np; i++) {
            if (!claim_scaled(&x->claims[parts[i]], sc, &v))
                break;
            prefix += v;
            if (i >= 1 && prefix == whole) {
                parts_text(x, parts, i + 1, list, sizeof(list));
                decimal_text(W->r, W->digits, computed, sizeof(computed));
                check_add(W, type, ST_OK, computed, NULL, "%s = %s;其后的 %zu 项是另一种分类", list, W->text,
                          np - i - 1);
                return;
            }
        }
    }
    if (diff == 0 || (tol2 > 0 && 2 * adiff <= tol2)) {
        check_add(W, type, ST_OK, computed, NULL, "%s = %s%s%s", list, computed, W->mult_text, unit);
    } else if (diff > 0) {
        if (strict)
            check_add(W, type, ST_MISMATCH, computed, NULL, "%s = %s%s%s,多于所写的总数 %s", list, computed,
                      W->mult_text, unit, W->text);
        else
            check_add(W, type, ST_UNVERIFIABLE, computed, NULL,
                      "%s = %s%s%s,多于总数 %s;各项可能不都是总数的组成部分(前后环节,或其后另有内容),未判为错误", list,
                      computed, W->mult_text, unit, W->text);
    } else if (strict && exhaustive) {
        check_add(W, type, ST_MISMATCH, computed, NULL, "%s = %s%s%s,少于所写的总数 %s", list, computed, W->mult_text,
                  unit, W->text);
    } else {
        check_add(W, type, ST_UNVERIFIABLE, computed, NULL, "%s = %s%s%s,少于总数 %s;可能未列全,无法判断", list,
                  computed, W->mult_text, unit, W->text);
    }
}

/* "共634件,其中保留361件,废止、修改273件" */
static void check_groups(struct run *x, const struct line *L, size_t first)
{
    const cp_t *c = L->c;
    size_t next = first; /* the first claim not ending before q */
    for (size_t q = 0; q + 1 < L->n; q++) {
        while (next < x->n && x->claims[next].end <= q)
            next++;
        if (c[q] != 0x5176 /* 其 */ || c[q + 1] != 0x4E2D /* 中 */ || L->qdepth[q] > 0 || next == first)
            continue;
        long wi = (long)next - 1; /* the last claim before 其中 */
        struct claim *W = &x->claims[wi];
        if (W->sent != L->sent[q] || !operand(W))
            continue;
        bool gap = true;
        for (size_t p = W->end; p < q && gap; p++)
            gap = c[p] == ',' || c[p] == 0xFF0C || c[p] == ':' || c[p] == 0xFF1A || is_paren_open(c[p]) ||
                  is_space(c[p]);
        if (!gap)
            continue;
        uint16_t gd = L->depth[q];
        size_t e = q;
        while (e < L->n && !(L->qdepth[e] == 0 && (is_sentence_end(c[e]) || L->depth[e] < gd)))
            e++;
        size_t parts[GROUP_MAX], np = 0, last_end = q, last_index = (size_t)wi;
        bool stopped = false;
        for (size_t k = (size_t)wi + 1; k < x->n; k++) {
            struct claim *P = &x->claims[k];
            if (P->end > e)
                break;
            if (P->depth != gd || annotation(P))
                continue; /* a note in parentheses, a share or a change beside a part */
            if (!operand(P) || !same_unit(P, W) || !P->tail || np == GROUP_MAX) {
                /* another figure: the parts end here ("其中30个项目被立项" has none) */
                stopped = true;
                break;
            }
            parts[np++] = k;
            last_end = P->end;
            last_index = k;
        }
        if (np == 0 || L->clause[x->claims[parts[0]].start] != L->clause[q])
            continue;
        for (size_t i = 0; i < np; i++)
            x->claims[parts[i]].whole = wi;
        if (np < 2)
            continue; /* one part: a subset, not a partition */
        const struct claim *last = &x->claims[parts[np - 1]];
        bool exhaustive =
            longest_at(last->label, last->nlabel, 0, exhaustive_words, SIFA_ARRAY_SIZE(exhaustive_words), NULL) > 0;
        bool strict = !stopped && group_ends_there(x, L, last_end, e, last_index + 1);
        long stage = -1;
        for (size_t i = 0; i < np && strict; i++) {
            long st = stage_of(x->claims[parts[i]].label, x->claims[parts[i]].nlabel);
            if (st >= 0 && stage >= 0 && st != stage)
                strict = false; /* 受理…办结…: a chain */
            if (st >= 0)
                stage = st;
        }
        judge_sum(x, wi, parts, np, strict, exhaustive, CT_SUM);
    }
}

/* "行政复议112件、行政诉讼94件,合计206件" */
static void check_totals(struct run *x, const struct line *L, size_t first)
{
    const cp_t *c = L->c;
    for (size_t k = first + 1; k < x->n; k++) {
        struct claim *T = &x->claims[k];
        if (!operand(T))
            continue;
        size_t nl = normalize(c + T->label_start, T->start - T->label_start, x->tmp);
        bool total = false;
        for (size_t i = 0; i < SIFA_ARRAY_SIZE(total_words); i++)
            total = total || equals_word(x->tmp, nl, total_words[i]);
        if (!total)
            continue;
        size_t parts[GROUP_MAX], np = 0;
        size_t next_start = T->label_start;
        bool list_sep = false; /* between the last part and the total: a comma */
        for (size_t p = k; p-- > first && np < GROUP_MAX;) {
            struct claim *P = &x->claims[p];
            if (P->sent != T->sent || P->depth != T->depth || !operand(P) || !same_unit(P, T) || !P->tail)
                break;
            size_t gl = normalize(c + P->end, next_start - P->end, x->tmp);
            bool joined;
            if (!list_sep) {
                joined = gl == 1 && (x->tmp[0] == ',' || x->tmp[0] == 0x3001);
                list_sep = true;
            } else {
                joined = (gl == 1 && x->tmp[0] == 0x3001) ||
                         (gl > 0 && longest_at(x->tmp, gl, 0, conjunctions, SIFA_ARRAY_SIZE(conjunctions), NULL) == gl);
            }
            if (!joined)
                break;
            parts[np++] = p;
            next_start = P->label_start;
        }
        if (np < 2)
            continue;
        /* parts were collected backwards */
        for (size_t i = 0; i < np / 2; i++) {
            size_t t = parts[i];
            parts[i] = parts[np - 1 - i];
            parts[np - 1 - i] = t;
        }
        for (size_t i = 0; i < np; i++)
            x->claims[parts[i]].whole = (long)k;
        judge_sum(x, (long)k, parts, np, true, true, CT_TOTAL);
    }
}

/* Counts the top-level quoted groups that end right before pos and follow one another:
 * "“A”“B”“C”3条" has 3. */
static size_t quoted_run(const struct line *L, size_t pos, size_t lb)
{
    size_t groups = 0, p = pos;
    while (p > lb && is_quote_close(L->c[p - 1]) && L->qdepth[p - 1] == 1) {
        size_t o = p - 1; /* back from the closer to its opener, at o - 1 */
        while (o > lb && !(L->qdepth[o - 1] == 1 && quote_closer(L->c[o - 1]) != 0))
            o--;
        if (o == lb)
            break;
        groups++;
        p = o - 1;
    }
    return groups;
}

/* "新增龙山镇、观海卫镇、胜山镇、长河镇等4个基层受理点", "“A”“B”“C”3条线路" */
static void check_lists(struct run *x, const struct line *L, size_t first)
{
    const cp_t *c = L->c;
    for (size_t k = first; k < x->n; k++) {
        struct claim *C = &x->claims[k];
        if (!operand(C) || C->digits != 0 || C->mult != 0 || C->start == 0)
            continue;
        size_t lb = L->clause[C->start];
        if (k > first && x->claims[k - 1].end > lb)
            lb = x->claims[k - 1].end;
        size_t at = C->start - 1;
        size_t items = 0;
        const char *how = NULL;
        if (c[at] == 0x7B49 /* 等 */ && L->qdepth[at] == 0) {
            size_t seps = 0, adjacent = 0;
            bool empty = false, content = false;
            for (size_t p = lb; p < at; p++) {
                if (L->qdepth[p] == 0 && L->depth[p] == L->depth[at] && c[p] == 0x3001) {
                    if (!content)
                        empty = true;
                    seps++;
                    content = false;
                } else if (!is_space(c[p])) {
                    content = true;
                }
                if (p + 1 < at && is_quote_close(c[p]) && L->qdepth[p] == 1 && quote_closer(c[p + 1]) != 0)
                    adjacent++;
            }
            if (empty || !content)
                continue;
            items = seps + 1 + adjacent;
            how = "用“等”概括前列举";
        } else if (is_quote_close(c[at])) {
            items = quoted_run(L, C->start, lb);
            how = "列举";
        }
        if (items < 2)
            continue;
        char computed[24];
        snprintf(computed, sizeof(computed), "%zu", items);
        if ((int64_t)items == C->r)
            check_add(C, CT_LIST, ST_OK, computed, NULL, "%s %zu 项,与 %s 相符", how, items, C->text);
        else if ((int64_t)items > C->r)
            check_add(C, CT_LIST, ST_MISMATCH, computed, NULL, "%s %zu 项,多于所写的 %s", how, items, C->text);
        /* fewer names than the number: "等" abbreviates the list, nothing to check */
    }
}

/* Rates ("调解成功率为72.72%") from the figure the rate names (the one before it in the sentence
 * whose label ends like the rate's, "调解成功8件") over a figure before that (its whole, else the
 * nearest, else any other that gives the written rate); shares ("占比40.00%") of the part just
 * before over the whole of its 其中 group. Only a numerator named in full may make a MISMATCH. */
static void check_rates(struct run *x, const struct line *L, size_t first)
{
    (void)L;
    for (size_t k = first; k < x->n; k++) {
        struct claim *R = &x->claims[k];
        if (R->kind != CK_PERCENT || R->change || R->nlabel < 2)
            continue;
        /* 占比 / 比重 right after a part: the part over its whole */
        if (share_label(R->label, R->nlabel)) {
            if (k == first)
                continue;
            const struct claim *P = &x->claims[k - 1];
            if (P->sent != R->sent || !operand(P) || !P->tail || P->whole < 0 || P->mult != 0)
                continue;
            const struct claim *D = &x->claims[P->whole];
            if (D->mult != 0)
                continue;
            char computed[48];
            __int128 num, den;
            if (!mulq((__int128)P->r * 100, pow10q(D->digits), &num) || !mulq(D->r, pow10q(P->digits), &den))
                continue;
            enum status st = judge(R, num, den, -1, computed, sizeof(computed));
            check_add(R, CT_SHARE, st, computed, NULL, "%s ÷ %s × 100%% = %s%%(按所写的 %d 位小数四舍五入)", P->text,
                      D->text, computed, R->digits);
            continue;
        }
        if (R->label[R->nlabel - 1] != 0x7387 /* 率 */)
            continue;
        const cp_t *stem = R->label;
        size_t nstem = R->nlabel - 1;
        long best = -1;
        size_t best_score = 1;
        for (size_t p = k, seen = 0; p-- > first && seen < LOOKBACK; seen++) {
            const struct claim *P = &x->claims[p];
            if (P->sent != R->sent)
                break;
            if (!operand(P) || P->previous_year || P->mult != 0)
                continue;
            size_t score = common_suffix(P->label, P->nlabel, stem, nstem);
            if (score > best_score) {
                best_score = score;
                best = (long)p;
            }
        }
        if (best < 0)
            continue;
        const struct claim *N = &x->claims[best];
        bool confident = best_score == nstem || best_score == N->nlabel;
        long dens[DENS_MAX];
        size_t nd = 0;
        if (N->whole >= 0 && x->claims[N->whole].mult == 0)
            dens[nd++] = N->whole;
        for (size_t p = (size_t)best, seen = 0; p-- > first && seen < LOOKBACK && nd < DENS_MAX; seen++) {
            const struct claim *D = &x->claims[p];
            int cmp;
            if (D->sent != N->sent)
                break;
            if (!operand(D) || D->previous_year || D->mult != 0 || !same_unit(D, N) || D->depth > N->depth ||
                (long)p == N->whole)
                continue;
            if (!compare_claims(D, N, &cmp) || cmp < 0)
                continue;
            dens[nd++] = (long)p;
        }
        if (nd == 0)
            continue;
        enum status first_st = ST_UNVERIFIABLE;
        char first_computed[48] = "";
        bool done = false;
        for (size_t i = 0; i < nd && !done; i++) {
            const struct claim *D = &x->claims[dens[i]];
            __int128 num, den;
            char computed[48];
            if (!mulq((__int128)N->r * 100, pow10q(D->digits), &num) || !mulq(D->r, pow10q(N->digits), &den))
                continue;
            enum status st = judge(R, num, den, -1, computed, sizeof(computed));
            if (i == 0) {
                first_st = st;
                snprintf(first_computed, sizeof(first_computed), "%s", computed);
            }
            if (st == ST_OK) {
                check_add(R, CT_RATE, ST_OK, computed, NULL, "%s ÷ %s × 100%% = %s%%(按所写的 %d 位小数四舍五入)",
                          N->text, D->text, computed, R->digits);
                done = true;
            }
        }
        if (done)
            continue;
        const struct claim *D = &x->claims[dens[0]];
        if (first_st == ST_MISMATCH && confident)
            check_add(R, CT_RATE, ST_MISMATCH, first_computed, NULL,
                      "%s ÷ %s × 100%% = %s%%(按所写的 %d 位小数四舍五入),与所写的 %s 不符", N->text, D->text,
                      first_computed, R->digits, R->text);
        else if (first_computed[0] != '\0')
            check_add(R, CT_RATE, ST_UNVERIFIABLE, first_computed, NULL,
                      "%s ÷ %s × 100%% = %s%%,与所写的 %s 不同;分子或分母不能确定,未判为错误", N->text, D->text,
                      first_computed, R->text);
    }
}

/* (cur − prev) / prev × 100 against a change claim; values as exact decimals. */
static enum status judge_change(const struct claim *C, __int128 cur, int cd, __int128 prev, int pd, char *computed,
                                size_t size, int *ret_dir)
{
    int s = cd > pd ? cd : pd;
    __int128 a, b;
    computed[0] = '\0';
    if (!mulq(cur, pow10q(s - cd), &a) || !mulq(prev, pow10q(s - pd), &b) || b <= 0)
        return ST_UNVERIFIABLE;
    __int128 delta = a - b, num;
    *ret_dir = delta > 0 ? 1 : delta < 0 ? -1 : 0;
    if (!mulq(delta < 0 ? -delta : delta, 100, &num))
        return ST_UNVERIFIABLE;
    enum status st = judge(C, num, b, -1, computed, size);
    if (st != ST_UNVERIFIABLE && *ret_dir != 0 && *ret_dir != C->dir)
        st = ST_MISMATCH;
    size_t cl = strlen(computed);
    if (*ret_dir < 0 && cl > 0 && cl + 2 <= size) { /* a fall is written as a negative change */
        memmove(computed + 1, computed, cl + 1);
        computed[0] = '-';
    }
    return st;
}

static const char *magnitude(const char *s)
{
    return s[0] == '-' ? s + 1 : s;
}

static const char *direction_word(int dir)
{
    return dir > 0 ? "上升" : dir < 0 ? "下降" : "持平";
}

/* "受理120件,上年同期100件,同比增长20%", "……206件,较上年的242件下降14.88%" */
static void check_changes(struct run *x, const struct line *L, size_t first)
{
    (void)L;
    for (size_t k = first; k < x->n; k++) {
        struct claim *C = &x->claims[k];
        if (!C->change)
            continue;
        if (C->prev >= 0) {
            /* the figure before last year's is this year's */
            for (size_t p = (size_t)C->prev, seen = 0; p-- > first && seen < LOOKBACK; seen++) {
                const struct claim *P = &x->claims[p];
                if (P->sent != C->sent)
                    break;
                if (operand(P) && !P->previous_year && same_unit(P, &x->claims[C->prev])) {
                    C->cur = (long)p;
                    break;
                }
            }
        } else {
            for (size_t p = k, seen = 0; p-- > first && seen < LOOKBACK; seen++) {
                const struct claim *P = &x->claims[p];
                if (P->sent != C->sent)
                    break;
                if (C->nsubject == 0) {
                    /* "受理120件,上年100件,同比增长20%": the figure before, skipping last year's
                     * and the difference from it */
                    if (P->previous_year || P->delta != 0)
                        continue;
                    if (operand(P))
                        C->cur = (long)p;
                    break;
                }
                if (!operand(P) || P->previous_year)
                    continue;
                size_t cs = common_suffix(P->label, P->nlabel, C->subject, C->nsubject);
                if (cs >= 2 && (cs == P->nlabel || cs == C->nsubject)) {
                    C->cur = (long)p;
                    break;
                }
            }
            if (C->cur >= 0) {
                const struct claim *cur = &x->claims[C->cur];
                long best = -1;
                size_t from = k > first + LOOKBACK ? k - LOOKBACK : first;
                for (size_t p = from; p < x->n && p <= k + LOOKBACK; p++) {
                    const struct claim *P = &x->claims[p];
                    if (P->sent != C->sent || (long)p == C->cur || !operand(P) || !P->previous_year ||
                        !same_unit(P, cur))
                        continue;
                    if (best < 0 || p < k)
                        best = (long)p;
                }
                C->prev = best;
            }
        }
        if (C->cur < 0 || x->claims[C->cur].mult != 0)
            continue;
        const struct claim *cur = &x->claims[C->cur];
        char computed[48];
        int dir = 0;
        enum status st;
        if (C->prev >= 0) {
            const struct claim *prev = &x->claims[C->prev];
            if (prev->mult != 0)
                continue;
            st = judge_change(C, cur->r, cur->digits, prev->r, prev->digits, computed, sizeof(computed), &dir);
            if (st == ST_UNVERIFIABLE && computed[0] == '\0')
                continue;
            check_add(C, CT_CHANGE, st, computed, NULL, "本期 %s,上年 %s:同比%s%s%%(按所写的 %d 位小数四舍五入)",
                      cur->text, prev->text, direction_word(dir), magnitude(computed), C->digits);
            continue;
        }
        /* "受理1131件,比上年增加50件,同比增长4.63%": last year's is this year's less the difference */
        const struct claim *D = NULL;
        for (size_t p = C->cur + 1; p < k; p++)
            if (x->claims[p].delta != 0 && x->claims[p].approx == AP_EXACT && x->claims[p].mult == 0 &&
                same_unit(&x->claims[p], cur) && x->claims[p].sent == C->sent)
                D = &x->claims[p];
        if (D == NULL)
            continue;
        int s2 = cur->digits > D->digits ? cur->digits : D->digits;
        __int128 cv = (__int128)cur->r * pow10q(s2 - cur->digits), dv = (__int128)D->r * pow10q(s2 - D->digits);
        st = judge_change(C, cv, s2, cv - D->delta * dv, s2, computed, sizeof(computed), &dir);
        if (st == ST_UNVERIFIABLE && computed[0] == '\0')
            continue;
        char prev_text[48];
        decimal_text(cv - D->delta * dv, s2, prev_text, sizeof(prev_text));
        check_add(C, CT_CHANGE, st, computed, NULL, "本期 %s,%s(上年 %s%s):同比%s%s%%(按所写的 %d 位小数四舍五入)",
                  cur->text, D->quote, prev_text, cur->unit, direction_word(dir), magnitude(computed), C->digits);
    }
}

/* ---------- the database ---------- */

static bool exact_kind(const struct sifa_indicator *ind)
{
    switch (ind->kind) {
    case SIFA_IND_COUNT: case SIFA_IND_SUM: case SIFA_IND_DISTINCT: case SIFA_IND_STOCK: case SIFA_IND_TOTAL:
    case SIFA_IND_DIFFERENCE:
        return true;
    default:
        return false;
    }
}

/* May the caller read every module the indicator is computed from? */
static bool readable(const struct run *x, const struct sifa_indicator *ind, int depth)
{
    if (ind == NULL)
        return true;
    if (x->src->scope_for == NULL || depth > SIFA_MODEL_DEPTH_MAX) /* no scope: nothing readable */
        return false;
    if (ind->module != NULL)
        return x->src->scope_for(x->src->scope_arg, ind->module) != NULL;
    return readable(x, ind->a, depth + 1) && readable(x, ind->b, depth + 1);
}

/* Does the caller see only part of the records the indicator counts (a town's staff)? */
static bool restricted(const struct run *x, const struct sifa_indicator *ind, int depth)
{
    if (ind == NULL || depth > SIFA_MODEL_DEPTH_MAX)
        return false;
    if (x->src->scope_for == NULL)
        return true;
    if (ind->module != NULL) {
        const struct sifa_record_scope *sc = x->src->scope_for(x->src->scope_arg, ind->module);
        return sc != NULL && !sc->all;
    }
    return restricted(x, ind->a, depth + 1) || restricted(x, ind->b, depth + 1);
}

/* The indicator's item for the year (compare: with last year's), borrowed from the cache; NULL
 * when the caller may not read it. */
static int read_item(struct run *x, const struct sifa_indicator *ind, bool compare, json_t **ret, struct sifa_error *err)
{
    for (size_t i = 0; i < x->ncache; i++)
        if (x->cache[i].ind == ind && x->cache[i].compare == compare) {
            *ret = x->cache[i].item;
            return 0;
        }
    if (x->ncache == x->cache_cap) {
        x->cache_cap = x->cache_cap ? 2 * x->cache_cap : 32;
        x->cache = sifa_xrealloc(x->cache, x->cache_cap * sizeof(*x->cache));
    }
    struct read_cache *e = &x->cache[x->ncache];
    memset(e, 0, sizeof(*e));
    e->ind = ind;
    e->compare = compare;
    if (!readable(x, ind, 0)) {
        e->denied = true;
        x->ncache++;
        *ret = NULL;
        return 0;
    }
    const char *orgs[1] = {x->src->org};
    const struct sifa_indicator *inds[1] = {ind};
    struct sifa_stats_request req = {
        .model = x->src->model,
        .calendar = x->src->calendar,
        .tree = x->tree,
        .scope_for = x->src->scope_for,
        .scope_arg = x->src->scope_arg,
        .indicators = inds,
        .nindicators = 1,
        .orgs = orgs,
        .norgs = 1,
        .period = x->period,
        .compare = compare,
        .compare_how = SIFA_COMPARE_PREVIOUS_YEAR,
    };
    json_t *data = NULL;
    struct sifa_error e2 = {0};
    int r = sifa_stats_read(x->src->db, &req, &data, &e2);
    if (r == SIFA_EDENIED) {
        sifa_error_release(&e2);
        e->denied = true;
        x->ncache++;
        *ret = NULL;
        return 0;
    }
    if (r < 0) {
        if (err != NULL) {
            sifa_error_release(err);
            *err = e2;
        } else {
            sifa_error_release(&e2);
        }
        return r;
    }
    e->item = json_incref(json_array_get(json_object_get(data, "items"), 0));
    json_decref(data);
    x->ncache++;
    *ret = e->item;
    return 0;
}

/* The item's exact value (its "text"), or false with a reason. */
static bool item_value(json_t *item, const char *which, __int128 *ret, int *ret_digits, const char **why)
{
    json_t *o = which ? json_object_get(item, which) : item;
    if (!parse_decimal(json_string_value(json_object_get(o, "text")), ret, ret_digits)) {
        *why = which ? "数据库中没有上年数据" : "数据库中没有该年度的数据";
        return false;
    }
    return true;
}

struct cands {
    const struct sifa_indicator *ind[CANDS_MAX];
    size_t n;
    bool strong; /* exactly one indicator, named without doubt */
};

static bool unit_ok(const struct sifa_indicator *ind, const struct claim *c, const cp_t *lab, size_t nlab)
{
    if (c == NULL) /* a change's subject: any figure that counts */
        return strcmp(ind->unit, "%") != 0 && exact_kind(ind);
    if (c->kind == CK_PERCENT)
        return strcmp(ind->unit, "%") == 0;
    if (c->kind != CK_COUNT)
        return false;
    if (strcmp(ind->unit, c->unit) == 0)
        return true;
    size_t ul = strlen(c->unit);
    return strncmp(ind->unit, c->unit, ul) == 0 && strcmp(ind->unit + ul, "/日") == 0 &&
           contains_word(lab, nlab, "日均");
}

/* The indicators a label names. A name that ends the label with only filler words before it,
 * or that ends with the whole label and whose remaining words occur earlier in the sentence
 * ("败诉率" in a sentence about 行政诉讼 → 行政诉讼败诉率), is a strong match; such a name whose
 * remaining words occur only earlier in the paragraph is a candidate too, but makes the mapping
 * doubtful ("调解成功8件" a sentence after 商事纠纷); a name ending the label after other words is
 * a weak match, used only when nothing else matches. Only one strong match, and nothing doubtful,
 * makes a mapping strong enough for a MISMATCH. */
static void match_indicators(const struct run *x, const cp_t *lab, size_t nlab, const cp_t *ctx, size_t nctx,
                             size_t nsentence, const struct claim *c, struct cands *ret)
{
    struct cands strong = {.n = 0}, weak = {.n = 0};
    bool strong_over = false, weak_over = false, doubtful = false;
    size_t off = strip_leading(lab, nlab);
    const struct sifa_model *m = x->src->model;
    for (size_t i = 0; i < m->nindicators; i++) {
        const struct sifa_indicator *ind = &m->indicators[i];
        const cp_t *N = x->names[i].c;
        size_t nN = x->names[i].n;
        if (nN < 2 || !unit_ok(ind, c, lab, nlab))
            continue;
        int kind = 0; /* 1 strong, 2 weak */
        if (nN <= nlab && memcmp(N, lab + nlab - nN, nN * sizeof(cp_t)) == 0) {
            size_t nq = nlab - nN;
            kind = strip_leading(lab, nq) == nq ? 1 : 2;
            if (kind == 2 && longest_before(lab, nq, adverbs, SIFA_ARRAY_SIZE(adverbs), NULL) > 0) {
                bool whole = false, narrow = false;
                for (size_t k = 0; k < SIFA_ARRAY_SIZE(whole_area_words); k++)
                    whole = whole || contains_word(lab, nq, whole_area_words[k]);
                for (size_t k = 0; k < SIFA_ARRAY_SIZE(narrowing_words); k++)
                    narrow = narrow || contains_word(lab, nq, narrowing_words[k]);
                if (whole && !narrow)
                    kind = 1;
            }
        } else if (nlab - off >= 2 && nlab - off < nN &&
                   memcmp(N + nN - (nlab - off), lab + off, (nlab - off) * sizeof(cp_t)) == 0) {
            size_t np = nN - (nlab - off);
            if (contains(ctx + nctx - nsentence, nsentence, N, np)) {
                kind = 1;
            } else if (contains(ctx, nctx, N, np)) {
                kind = 1;
                doubtful = true;
            }
        }
        if (kind == 1) {
            if (strong.n < CANDS_MAX)
                strong.ind[strong.n++] = ind;
            else
                strong_over = true;
        } else if (kind == 2) {
            if (weak.n < CANDS_MAX)
                weak.ind[weak.n++] = ind;
            else
                weak_over = true;
        }
    }
    if (strong.n > 0) {
        *ret = strong;
        ret->strong = strong.n == 1 && !strong_over && !doubtful;
    } else {
        *ret = weak;
        ret->strong = false;
        (void)weak_over;
    }
}

/* Evaluates claim c against one indicator. */
static int eval_indicator(struct run *x, const struct claim *c, const struct sifa_indicator *ind, enum status *ret_st,
                          char *computed, size_t size, int *ret_dir, const char **why, bool *doubt, bool *far,
                          struct sifa_error *err)
{
    json_t *item = NULL;
    *ret_st = ST_UNVERIFIABLE;
    computed[0] = '\0';
    *why = NULL;
    int r;
    if (c->change) {
        if ((r = read_item(x, ind, true, &item, err)) < 0)
            return r;
        if (item == NULL) {
            *why = "无权读取该指标";
            return 0;
        }
        __int128 cur, prev;
        int cd, pd;
        if (!item_value(item, NULL, &cur, &cd, why) || !item_value(item, "previous", &prev, &pd, why))
            return 0;
        if (prev <= 0) {
            *why = "上年数值为 0,无法计算变化率";
            return 0;
        }
        *ret_st = judge_change(c, cur, cd, prev, pd, computed, size, ret_dir);
    } else if (c->kind == CK_PERCENT && ind->kind == SIFA_IND_RATIO && ind->scale == 100 && ind->a && ind->b &&
               exact_kind(ind->a) && exact_kind(ind->b)) {
        json_t *ia = NULL, *ib = NULL;
        if ((r = read_item(x, ind->a, false, &ia, err)) < 0 || (r = read_item(x, ind->b, false, &ib, err)) < 0)
            return r;
        if (ia == NULL || ib == NULL) {
            *why = "无权读取该指标";
            return 0;
        }
        __int128 a, b, num, den;
        int ad, bd;
        if (!item_value(ia, NULL, &a, &ad, why) || !item_value(ib, NULL, &b, &bd, why))
            return 0;
        if (b <= 0) {
            *why = "分母为 0";
            return 0;
        }
        if (!mulq(a, pow10q(bd) * 100, &num) || !mulq(b, pow10q(ad), &den))
            return 0;
        *ret_st = judge(c, num, den, -1, computed, size);
        *doubt = *doubt || json_is_true(json_object_get(ia, "partial")) || json_is_true(json_object_get(ib, "partial")) ||
                 json_is_true(json_object_get(ia, "stale")) || json_is_true(json_object_get(ib, "stale"));
        item = ia;
    } else {
        if ((r = read_item(x, ind, false, &item, err)) < 0)
            return r;
        if (item == NULL) {
            *why = "无权读取该指标";
            return 0;
        }
        __int128 v;
        int vd;
        if (!item_value(item, NULL, &v, &vd, why))
            return 0;
        *ret_st = judge(c, v, pow10q(vd), exact_kind(ind) ? -1 : vd, computed, size);
        /* a count off by more than half or double is more likely another figure than a typo */
        int sc = vd > c->digits - c->mult ? vd : c->digits - c->mult;
        __int128 cv, vv;
        if (*ret_st == ST_MISMATCH && c->kind == CK_COUNT && claim_scaled(c, sc, &cv) &&
            mulq(v, pow10q(sc - vd), &vv) && (vv > 2 * cv || 2 * vv < cv))
            *far = true;
    }
    *doubt = *doubt || json_is_true(json_object_get(item, "partial")) || json_is_true(json_object_get(item, "stale"));
    /* a report for everything, read by someone who sees part of it: its figures can confirm the
     * report's, not refute them */
    *doubt = *doubt || (x->src->org == NULL && restricted(x, ind, 0));
    if (*ret_st == ST_UNVERIFIABLE && *why == NULL)
        *why = "指标的精度不足以核对所写的数字";
    return 0;
}

static int check_database(struct run *x, struct sifa_error *err)
{
    const struct sifa_model *m = x->src->model;
    int r = sifa_org_tree_load(x->src->db, &x->tree, err);
    if (r < 0)
        return r;
    if (x->src->org != NULL && sifa_org_tree_find(x->tree, x->src->org) < 0)
        return sifa_error_set_details(err, SIFA_ENOTFOUND, "org_not_found", json_pack("{s:s}", "org", x->src->org),
                                      "单位 %s 不存在", x->src->org);
    char year[16];
    snprintf(year, sizeof(year), "%04d", x->year);
    if ((r = sifa_period_parse(year, &x->period, err)) < 0)
        return r;
    x->names = sifa_xcalloc(m->nindicators + 1, sizeof(*x->names));
    for (size_t i = 0; i < m->nindicators; i++) {
        const char *name = m->indicators[i].name ? m->indicators[i].name : "";
        size_t len = strlen(name), k = 0;
        cp_t *raw = sifa_xmalloc((len + 1) * sizeof(cp_t));
        for (size_t off = 0; off < len;) {
            uint32_t cp;
            size_t l = sifa_utf8_decode((const unsigned char *)name + off, len - off, &cp);
            if (l == 0)
                break;
            raw[k++] = cp;
            off += l;
        }
        x->names[i].c = raw;
        x->names[i].n = normalize(raw, k, raw);
    }
    for (size_t k = 0; k < x->n; k++) {
        struct claim *c = &x->claims[k];
        struct cands cs = {.n = 0};
        if (c->change) {
            const cp_t *s = c->subject;
            size_t ns = c->nsubject;
            if (ns == 0 && c->cur >= 0) {
                s = x->claims[c->cur].label;
                ns = x->claims[c->cur].nlabel;
            }
            if (ns > 0)
                match_indicators(x, s, ns, c->context, c->ncontext, c->nsentence, NULL, &cs);
        } else if ((c->kind == CK_COUNT || c->kind == CK_PERCENT) && !c->previous_year && !c->distributive &&
                   c->delta == 0 && c->nlabel > 0) {
            match_indicators(x, c->label, c->nlabel, c->context, c->ncontext, c->nsentence, c, &cs);
        }
        if (cs.n == 0) {
            if (c->nchecks == 0)
                c->note = c->previous_year ? "上年的数字,不与本年度数据比对"
                          : c->delta != 0  ? "与上年的差额,不与本年度数据比对"
                                           : "无法对应到指标";
            continue;
        }
        enum status st[CANDS_MAX];
        char computed[CANDS_MAX][48];
        const char *why[CANDS_MAX];
        int dir[CANDS_MAX];
        bool doubt = false, far = false;
        long ok = -1;
        for (size_t i = 0; i < cs.n; i++) {
            dir[i] = 0;
            if ((r = eval_indicator(x, c, cs.ind[i], &st[i], computed[i], sizeof(computed[i]), &dir[i], &why[i],
                                    &doubt, &far, err)) < 0)
                return r;
            if (st[i] == ST_OK && ok < 0)
                ok = (long)i;
        }
        const char *unit = c->kind == CK_PERCENT ? "%" : c->unit;
        size_t best = ok >= 0 ? (size_t)ok : 0;
        const struct sifa_indicator *ind = cs.ind[best];
        char value[96];
        snprintf(value, sizeof(value), "%s%s%s%s", c->change ? "同比" : "", c->change ? direction_word(dir[best]) : "",
                 magnitude(computed[best]), c->change ? "%" : "");
        if (!c->change) {
            size_t used = strlen(value);
            snprintf(value + used, sizeof(value) - used, "%s%s", c->mult_text, unit);
        }
        if (ok >= 0) {
            check_add(c, CT_INDICATOR, ST_OK, computed[ok], ind, "指标“%s”(%s)%d 年:%s", ind->name, ind->code, x->year,
                      value);
            continue;
        }
        if (cs.strong && st[0] == ST_MISMATCH && !doubt && !far && !c->other_year && !c->cumulative &&
            x->year_known) {
            check_add(c, CT_INDICATOR, ST_MISMATCH, computed[0], ind, "指标“%s”(%s)%d 年:%s,与所写的 %s 不符",
                      ind->name, ind->code, x->year, value, c->text);
        } else if (st[0] == ST_MISMATCH || (cs.n > 1 && computed[0][0] != '\0')) {
            const char *reason = !cs.strong       ? "对应的指标不唯一或名称不完全一致"
                                 : c->other_year  ? "句中提到其他年份"
                                 : c->cumulative  ? "累计数可能跨年度"
                                 : !x->year_known ? "报告开头没有写明年份,按上一年核对,请指定年份"
                                 : far            ? "与指标相差一倍以上,可能不是同一口径"
                                                  : "您可见的数据只是一部分,或汇总待重建";
            check_add(c, CT_INDICATOR, ST_UNVERIFIABLE, computed[0], ind,
                      "指标“%s”(%s)%d 年:%s,与所写的不同;%s,未判为错误", ind->name, ind->code, x->year, value,
                      reason);
        } else {
            check_add(c, CT_INDICATOR, ST_UNVERIFIABLE, computed[0], ind, "指标“%s”(%s)%d 年:%s", ind->name, ind->code,
                      x->year, why[0] ? why[0] : "无法核对");
        }
    }
    return 0;
}

/* ---------- input ---------- */

static int validate(const char *text, size_t len, size_t *ret_start, struct sifa_error *err)
{
    if (len > SIFA_CHECK_REPORT_MAX)
        return sifa_error_set_details(err, SIFA_ELIMIT, "report_too_large",
                                      json_pack("{s:i}", "max_bytes", SIFA_CHECK_REPORT_MAX),
                                      "报告超过 %d MiB 的上限", SIFA_CHECK_REPORT_MAX / (1024 * 1024));
    const unsigned char *s = (const unsigned char *)text;
    size_t i = len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
    *ret_start = i;
    size_t line = 1, col = 1, line_start = i;
    for (;;) {
        if (i == len || s[i] == '\n') {
            if (i - line_start > SIFA_CHECK_REPORT_LINE_MAX)
                return sifa_error_set_details(err, SIFA_ELIMIT, "report_line_too_long",
                                              json_pack("{s:I,s:i}", "line", (json_int_t)line, "max_bytes",
                                                        SIFA_CHECK_REPORT_LINE_MAX),
                                              "第 %zu 行超过 %d KiB 的上限", line, SIFA_CHECK_REPORT_LINE_MAX / 1024);
            if (i == len)
                return 0;
            i++;
            line++;
            col = 1;
            line_start = i;
            continue;
        }
        size_t k = s[i] < 0x80 ? 1 : sifa_utf8_decode(s + i, len - i, NULL);
        if (s[i] == 0)
            return sifa_error_set_details(err, SIFA_EINVALID, "report_nul",
                                          json_pack("{s:I,s:I,s:I}", "line", (json_int_t)line, "column", (json_int_t)col,
                                                    "offset", (json_int_t)i),
                                          "第 %zu 行第 %zu 列有 NUL 字符,不是文本", line, col);
        if (k == 0)
            return sifa_error_set_details(err, SIFA_EINVALID, "report_bad_utf8",
                                          json_pack("{s:I,s:I,s:I}", "line", (json_int_t)line, "column", (json_int_t)col,
                                                    "offset", (json_int_t)i),
                                          "第 %zu 行第 %zu 列(字节偏移 %zu)不是有效的 UTF-8", line, col, i);
        i += k;
        col++;
    }
}

/* The first "YYYY年" (2000–2100) in s[from, to) that is not the end of a range ("2021-2025年",
 * "2021至2025年": the report's year is where the range starts, and that comes first anyway) and
 * not the tail of a longer number; 0 if none. */
static int first_year_in(const unsigned char *s, size_t from, size_t to)
{
    for (size_t k = from; k + 7 <= to; k++) {
        if (k > from && ((s[k - 1] >= '0' && s[k - 1] <= '9') || s[k - 1] == '-' || s[k - 1] == '~'))
            continue;
        if (k >= from + 3 && (memcmp(s + k - 3, "\xE8\x87\xB3", 3) == 0 || /* 至 */
                              memcmp(s + k - 3, "\xE2\x80\x94", 3) == 0 || /* — */
                              memcmp(s + k - 3, "\xE2\x80\x93", 3) == 0))  /* – */
            continue;
        bool digits = true;
        int y = 0;
        for (size_t d = 0; d < 4; d++) {
            digits = digits && s[k + d] >= '0' && s[k + d] <= '9';
            y = y * 10 + (s[k + d] - '0');
        }
        if (digits && memcmp(s + k + 4, "\xE5\xB9\xB4", 3) == 0 && y >= 2000 && y <= 2100)
            return y;
    }
    return 0;
}

int sifa_report_check_year(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
    size_t start = i;
    /* the title: the first line with anything but blanks */
    for (;;) {
        size_t e = i;
        bool blank = true;
        while (e < len && s[e] != '\n') {
            if (s[e] != ' ' && s[e] != '\t' && s[e] != '\r')
                blank = false;
            e++;
        }
        if (!blank) {
            int y = first_year_in(s, i, e);
            if (y > 0)
                return y;
            break;
        }
        if (e >= len)
            break;
        i = e + 1;
    }
    /* No year in it (a title page lost in conversion leaves "|", or the title has none): the
     * report's opening, whose first sentence says which year it reports on ("2021年是……"). */
    size_t end = start;
    for (size_t chars = 0; end < len && chars < SIFA_CHECK_REPORT_YEAR_CHARS; chars++) {
        end++;
        while (end < len && (s[end] & 0xC0) == 0x80)
            end++; /* whole code points: a year never straddles the limit */
    }
    return first_year_in(s, start, end);
}

bool sifa_report_is_docx(const void *data, size_t len)
{
    return len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0;
}

static int last_year(void)
{
    time_t now = time(NULL) + 8 * 3600; /* China time */
    struct tm tm;
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900 - 1;
}

/* ---------- output ---------- */

static enum status claim_status(const struct claim *c, const struct check **ret_main)
{
    enum status st = ST_UNVERIFIABLE;
    const struct check *main = NULL;
    for (size_t i = 0; i < c->nchecks; i++) {
        const struct check *k = &c->checks[i];
        if (k->status == ST_MISMATCH && st != ST_MISMATCH) {
            st = ST_MISMATCH;
            main = k;
        } else if (k->status == ST_OK && st == ST_UNVERIFIABLE) {
            st = ST_OK;
            main = k;
        } else if (main == NULL && k->computed[0] != '\0') {
            main = k;
        }
    }
    *ret_main = main;
    return st;
}

static json_t *claim_json(const struct run *x, const struct claim *c, enum status *ret_st)
{
    const struct check *main;
    enum status st = claim_status(c, &main);
    *ret_st = st;
    char value[48], unit[48];
    decimal_text(c->change && c->dir < 0 ? -(__int128)c->r : c->r, c->digits, value, sizeof(value));
    snprintf(unit, sizeof(unit), "%s%s", c->mult_text, c->unit);
    json_t *checks = json_array();
    for (size_t i = 0; i < c->nchecks; i++) {
        const struct check *k = &c->checks[i];
        json_t *j = json_pack("{s:s,s:s,s:s?,s:s}", "type", check_type_names[k->type], "status",
                              status_names[k->status], "computed", k->computed[0] ? k->computed : NULL, "explanation",
                              k->explanation);
        if (k->ind != NULL) {
            json_object_set_new(j, "indicator", json_string(k->ind->code));
            json_object_set_new(j, "name", json_string(k->ind->name));
        }
        json_array_append_new(checks, j);
    }
    const char *note = NULL;
    if (st == ST_UNVERIFIABLE) {
        for (size_t i = 0; i < c->nchecks && note == NULL; i++)
            note = c->checks[i].explanation;
        if (note == NULL)
            note = c->note ? c->note
                   : c->kind == CK_OTHER ? "倍数和百分点不核对"
                   : x->src            ? "正文中没有可据以核对的数字"
                                       : "正文中没有可据以核对的数字;未连接数据库";
    }
    const char *kind = c->change ? "change" : c->kind == CK_COUNT ? "count" : c->kind == CK_PERCENT ? "percent" : "other";
    return json_pack("{s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s?,s:s,s:s?,s:o,s:s?}", "line", c->line, "column", c->column,
                     "text", c->text, "quote", c->quote, "value", value, "unit", unit, "kind", kind, "approx",
                     approx_names[c->approx], "status", status_names[st], "computed",
                     main && main->computed[0] ? main->computed : NULL, "checks", checks, "note", note);
}

char *sifa_report_check_to_text(const json_t *result)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return sifa_xstrdup("");
    json_t *claims = json_object_get(result, "claims");
    size_t i;
    json_t *c;
    json_array_foreach(claims, i, c)
    {
        const char *computed = json_string_value(json_object_get(c, "computed"));
        const char *status = json_string_value(json_object_get(c, "status"));
        fprintf(f, "%lld:%lld\t%s\t%s\t「%s」", (long long)json_integer_value(json_object_get(c, "line")),
                (long long)json_integer_value(json_object_get(c, "column")), status,
                json_string_value(json_object_get(c, "text")), json_string_value(json_object_get(c, "quote")));
        if (computed != NULL && strcmp(status, "OK") != 0)
            fprintf(f, "\t应为 %s", computed);
        else if (computed != NULL)
            fprintf(f, "\t计算值 %s", computed);
        size_t k;
        json_t *chk;
        bool any = false;
        json_array_foreach(json_object_get(c, "checks"), k, chk)
        {
            fprintf(f, "%s%s", any ? ";" : "\t", json_string_value(json_object_get(chk, "explanation")));
            any = true;
        }
        if (!any && json_is_string(json_object_get(c, "note")))
            fprintf(f, "\t%s", json_string_value(json_object_get(c, "note")));
        fputc('\n', f);
    }
    json_t *org = json_object_get(result, "org");
    const char *source = json_string_value(json_object_get(result, "year_source"));
    fprintf(f, "%lld 年%s%s:共 %zu 处数字,OK %lld,MISMATCH %lld,UNVERIFIABLE %lld%s%s\n",
            (long long)json_integer_value(json_object_get(result, "year")), json_is_string(org) ? " 单位 " : "",
            json_is_string(org) ? json_string_value(org) : "", json_array_size(claims),
            (long long)json_integer_value(json_object_get(result, "ok")),
            (long long)json_integer_value(json_object_get(result, "mismatches")),
            (long long)json_integer_value(json_object_get(result, "unverifiable")),
            json_is_true(json_object_get(result, "database")) ? "" : "(未连接数据库,只核对正文内的数字)",
            source != NULL && strcmp(source, "default") == 0 ? "(报告开头没有写明年份,按上一年核对;可指定年份)" : "");
    fclose(f);
    return buf;
}

/* Markdown inside a line: "[395](/api/v1/…)个" is "395个" (links and images keep their text) and
 * "**12033**件" is "12033件" (emphasis marks go). Code points keep their columns as written. */
static size_t markdown_inline(cp_t *c, uint32_t *col, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if ((c[i] == '*' || c[i] == '_') && i + 1 < n && c[i + 1] == c[i]) {
            i += 2;
            continue;
        }
        if (c[i] == '[' || (c[i] == '!' && i + 1 < n && c[i + 1] == '[')) {
            size_t open = c[i] == '!' ? i + 1 : i, close = open + 1;
            while (close < n && c[close] != ']' && c[close] != '[' && close - open <= 256)
                close++;
            size_t end = close + 1;
            if (close < n && c[close] == ']' && end < n && c[end] == '(') {
                while (end < n && c[end] != ')' && !is_space(c[end]))
                    end++;
                if (end < n && c[end] == ')') {
                    for (size_t k = open + 1; k < close; k++) {
                        c[o] = c[k];
                        col[o++] = col[k];
                    }
                    i = end + 1;
                    continue;
                }
            }
        }
        c[o] = c[i];
        col[o++] = col[i];
        i++;
    }
    return o;
}

/* ---------- the check ---------- */

static void run_release(struct run *x)
{
    for (size_t i = 0; i < x->n; i++)
        claim_release(&x->claims[i]);
    free(x->claims);
    free(x->cp);
    free(x->qdepth);
    free(x->depth);
    free(x->sent);
    free(x->clause);
    free(x->col);
    free(x->tmp);
    if (x->names != NULL && x->src != NULL)
        for (size_t i = 0; i < x->src->model->nindicators; i++)
            free(x->names[i].c);
    free(x->names);
    for (size_t i = 0; i < x->ncache; i++)
        json_decref(x->cache[i].item);
    free(x->cache);
    sifa_org_tree_free(x->tree);
}

int sifa_report_check(const char *text, size_t len, const struct sifa_check_report_options *opt, json_t **ret,
                      struct sifa_error *err)
{
    size_t start = 0;
    int r = validate(text, len, &start, err);
    if (r < 0)
        return r;
    struct run x = {0};
    /* given; else written in the report's opening; else the year before this one, as a report is
     * written about the year that ended (refuting a figure then needs the year to be certain) */
    const char *year_source = "given";
    x.year = opt && opt->year > 0 ? opt->year : 0;
    if (x.year <= 0) {
        x.year = sifa_report_check_year(text, len);
        year_source = "text";
    }
    x.year_known = x.year > 0;
    if (x.year <= 0) {
        x.year = last_year();
        year_source = "default";
    }
    x.src = opt ? opt->source : NULL;
    if (x.src != NULL && (x.src->db == NULL || x.src->model == NULL))
        x.src = NULL;
    x.lcap = SIFA_CHECK_REPORT_LINE_MAX + 1;
    x.cp = sifa_xmalloc(x.lcap * sizeof(*x.cp));
    x.qdepth = sifa_xmalloc(x.lcap * sizeof(*x.qdepth));
    x.depth = sifa_xmalloc(x.lcap * sizeof(*x.depth));
    x.sent = sifa_xmalloc(x.lcap * sizeof(*x.sent));
    x.clause = sifa_xmalloc(x.lcap * sizeof(*x.clause));
    x.col = sifa_xmalloc(x.lcap * sizeof(*x.col));
    x.tmp = sifa_xmalloc(x.lcap * sizeof(*x.tmp));
    struct line L = {
        .c = x.cp, .col = x.col, .qdepth = x.qdepth, .depth = x.depth, .sent = x.sent, .clause = x.clause};
    const unsigned char *s = (const unsigned char *)text;
    int no = 1;
    for (size_t i = start; r >= 0; no++) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        size_t le = e > i && s[e - 1] == '\r' ? e - 1 : e;
        size_t n = 0;
        for (size_t p = i; p < le && n < x.lcap;) {
            uint32_t cp;
            size_t l = s[p] < 0x80 ? 1 : sifa_utf8_decode(s + p, le - p, &cp);
            if (s[p] < 0x80)
                cp = s[p];
            assert(l > 0); /* validated */
            x.col[n] = (uint32_t)n + 1;
            x.cp[n++] = cp;
            p += l;
        }
        n = markdown_inline(x.cp, x.col, n);
        L.no = no;
        L.n = n;
        L.nyears = 0;
        line_analyse(&L);
        size_t first = x.n;
        r = scan_line(&x, &L, err);
        if (r >= 0) {
            check_groups(&x, &L, first);
            check_totals(&x, &L, first);
            check_lists(&x, &L, first);
            check_rates(&x, &L, first);
            check_changes(&x, &L, first);
        }
        if (e >= len)
            break;
        i = e + 1;
    }
    if (r >= 0 && x.src != NULL && x.src->model->nindicators > 0)
        r = check_database(&x, err);
    if (r < 0) {
        run_release(&x);
        return r;
    }
    json_t *claims = json_array();
    size_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < x.n; i++) {
        enum status st;
        json_array_append_new(claims, claim_json(&x, &x.claims[i], &st));
        counts[st]++;
    }
    *ret = json_pack("{s:i,s:s,s:s?,s:b,s:o,s:I,s:I,s:I}", "year", x.year, "year_source", year_source, "org",
                     x.src ? x.src->org : NULL, "database", x.src != NULL, "claims", claims, "mismatches", (json_int_t)counts[ST_MISMATCH], "ok",
                     (json_int_t)counts[ST_OK], "unverifiable", (json_int_t)counts[ST_UNVERIFIABLE]);
    run_release(&x);
    return 0;
}

/* ---------- DOCX ---------- */

static bool out_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n > SIFA_CHECK_REPORT_MAX)
        return false;
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap = *cap ? 2 * *cap : 4096;
        *buf = sifa_xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* The text of document.xml: <w:t> runs, <w:tab/> as a tab, <w:br/> and </w:p> as line ends. */
static bool docx_xml_text(const char *x, size_t n, char **buf, size_t *len, size_t *cap)
{
    bool in_t = false, in_tabs = false;
    for (size_t i = 0; i < n;) {
        if (x[i] != '<') {
            if (!in_t || x[i] == '\0') { /* XML has no NUL; a C string cannot carry one */
                i++;
                continue;
            }
            if (x[i] == '&') {
                const char *semi = memchr(x + i, ';', n - i < 12 ? n - i : 12);
                char out[4];
                size_t on = 0;
                if (semi != NULL) {
                    size_t el = (size_t)(semi - (x + i)) + 1;
                    static const struct {
                        const char *e;
                        char c;
                    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
                    for (size_t k = 0; k < SIFA_ARRAY_SIZE(named); k++)
                        if (el == strlen(named[k].e) && memcmp(x + i, named[k].e, el) == 0) {
                            out[0] = named[k].c;
                            on = 1;
                        }
                    if (on == 0 && el > 3 && x[i + 1] == '#') {
                        bool hex = x[i + 2] == 'x' || x[i + 2] == 'X';
                        uint32_t v = 0;
                        bool ok = true;
                        for (size_t k = i + (hex ? 3 : 2); k < i + el - 1 && ok; k++) {
                            int d = hex ? sifa_hex_value((unsigned char)x[k]) : (x[k] >= '0' && x[k] <= '9' ? x[k] - '0' : -1);
                            ok = d >= 0 && v < 0x110000;
                            v = v * (hex ? 16 : 10) + (uint32_t)(d < 0 ? 0 : d);
                        }
                        if (ok && v > 0 && v < 0x110000 && !(v >= 0xD800 && v <= 0xDFFF))
                            on = utf8_put(v, out);
                    }
                    if (on > 0) {
                        if (!out_put(buf, len, cap, out, on))
                            return false;
                        i += el;
                        continue;
                    }
                }
            }
            if (!out_put(buf, len, cap, x + i, 1))
                return false;
            i++;
            continue;
        }
        const char *gt = memchr(x + i, '>', n - i);
        size_t tl = gt ? (size_t)(gt - (x + i)) + 1 : n - i;
        const char *tag = x + i;
        bool closing = tl > 1 && tag[1] == '/', self = tl >= 2 && tag[tl - 2] == '/';
        const char *name = tag + (closing ? 2 : 1);
        size_t nl = 0;
        while (name + nl < tag + tl && name[nl] != ' ' && name[nl] != '>' && name[nl] != '/' && name[nl] != '\t' &&
               name[nl] != '\n' && name[nl] != '\r')
            nl++;
#define TAG_IS(s) (nl == sizeof(s) - 1 && memcmp(name, s, nl) == 0)
        if (TAG_IS("w:t"))
            in_t = !closing && !self;
        else if (TAG_IS("w:tabs"))
            in_tabs = !closing && !self;
        else if (TAG_IS("w:p") && (closing || self)) {
            if (!out_put(buf, len, cap, "\n", 1))
                return false;
        } else if (TAG_IS("w:tab") && !closing && !in_tabs) {
            if (!out_put(buf, len, cap, "\t", 1))
                return false;
        } else if ((TAG_IS("w:br") || TAG_IS("w:cr")) && !closing) {
            if (!out_put(buf, len, cap, "\n", 1))
                return false;
        }
#undef TAG_IS
        i += tl;
    }
    return true;
}

int sifa_report_docx_text(const void *data, size_t len, char **ret_text, size_t *ret_len, struct sifa_error *err)
{
    if (len > SIFA_CHECK_REPORT_MAX)
        return sifa_error_set(err, SIFA_ELIMIT, "report_too_large", "文件超过 %d MiB 的上限",
                              SIFA_CHECK_REPORT_MAX / (1024 * 1024));
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    zip_error_fini(&ze);
    if (za == NULL) {
        zip_source_free(src);
        return sifa_error_set(err, SIFA_EINVALID, "docx_invalid", "文件不是可读取的 DOCX(ZIP 格式有误)");
    }
    zip_stat_t st;
    zip_stat_init(&st);
    char *xml = NULL, *buf = NULL;
    size_t blen = 0, bcap = 0;
    int r = 0;
    if (zip_stat(za, "word/document.xml", 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        r = sifa_error_set(err, SIFA_EINVALID, "docx_invalid", "文件中没有 word/document.xml,不是 DOCX 文档");
    } else if (st.size > DOCX_XML_MAX) {
        r = sifa_error_set(err, SIFA_ELIMIT, "report_too_large", "DOCX 正文超过 %d MiB 的上限",
                           DOCX_XML_MAX / (1024 * 1024));
    } else {
        zip_file_t *zf = zip_fopen(za, "word/document.xml", 0);
        xml = sifa_xmalloc((size_t)st.size + 1);
        zip_int64_t got = zf ? zip_fread(zf, xml, st.size) : -1;
        if (zf)
            zip_fclose(zf);
        if (got < 0 || (zip_uint64_t)got != st.size)
            r = sifa_error_set(err, SIFA_EINVALID, "docx_invalid", "无法读取 DOCX 的正文(文件损坏或已加密)");
        else if (!docx_xml_text(xml, (size_t)got, &buf, &blen, &bcap))
            r = sifa_error_set(err, SIFA_ELIMIT, "report_too_large", "DOCX 正文的文字超过 %d MiB 的上限",
                               SIFA_CHECK_REPORT_MAX / (1024 * 1024));
    }
    zip_discard(za);
    free(xml);
    if (r < 0) {
        free(buf);
        return r;
    }
    if (buf == NULL)
        buf = sifa_xstrdup("");
    *ret_text = buf;
    *ret_len = blen;
    return 0;
}
