/* test_report.c — unit tests for the annual report's generation (src/report/template.c,
 * render.c, passages.c): template syntax errors with line:column, the limits, the figure formats
 * (亿元/万元/余/超过万/floor/phrase/trim, rates at their declared digits), missing and denied
 * figures flagged (never a 0), stored passages replacing the defaults, and the Markdown and HTML
 * renderers' escaping. The build tests run on a real SQLite database with a small model, as
 * test_stats.c does. Runs from the repository root (the real template is parsed too). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/common.h"
#include "auth/schema.h"
#include "record/record.h"
#include "report/report.h"
#include "stats/stats.h"

/* ---------- template syntax ---------- */

static struct sifa_report_template *parse_ok(const char *text)
{
    struct sifa_report_template *t = NULL;
    struct sifa_error err = {0};
    int r = sifa_report_template_parse(text, strlen(text), "t.md", &t, &err);
    if (r < 0)
        print_message("unexpected: %s\n", err.message);
    assert_int_equal(r, 0);
    sifa_error_release(&err);
    return t;
}

/* Parsing fails with code at line:column, and the message contains want (may be NULL). */
static void parse_fails(const char *text, const char *code, int line, int column, const char *want)
{
    struct sifa_report_template *t = NULL;
    struct sifa_error err = {0};
    int r = sifa_report_template_parse(text, strlen(text), "t.md", &t, &err);
    if (r >= 0)
        print_message("parsed, expected %s: %s\n", code, text);
    assert_true(r < 0);
    assert_null(t);
    assert_string_equal(err.code, code);
    if (line > 0) {
        if ((int)json_integer_value(json_object_get(err.details, "line")) != line ||
            (int)json_integer_value(json_object_get(err.details, "column")) != column)
            print_message("%s (want %d:%d)\n", err.message, line, column);
        assert_int_equal(json_integer_value(json_object_get(err.details, "line")), line);
        assert_int_equal(json_integer_value(json_object_get(err.details, "column")), column);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "t.md:%d:%d: ", line, column);
        assert_non_null(strstr(err.message, prefix));
    }
    if (want != NULL && strstr(err.message, want) == NULL) {
        print_message("message: %s (want %s)\n", err.message, want);
        fail();
    }
    sifa_error_release(&err);
}

static void test_syntax_errors_name_line_and_column(void **state)
{
    (void)state;
    parse_fails("# 标题\n正文{{mediation_cases", "template_syntax", 2, 3, "}}");
    parse_fails("共{{a{{b}}}}件", "template_syntax", 1, 2, "嵌套");
    parse_fails("共{{mediation_cases|bogus}}件", "template_syntax", 1, 2, "未知的格式");
    parse_fails("共{{mediation_amount|亿元:9}}", "template_syntax", 1, 2, "小数位数");
    parse_fails("共{{x|余:0}}", "template_syntax", 1, 2, "正整数");
    parse_fails("共{{x|余:abc}}", "template_syntax", 1, 2, NULL);
    parse_fails("共{{x|trim:2}}", "template_syntax", 1, 2, "不带参数");
    parse_fails("共{{X}}件", "template_syntax", 1, 2, "不是指标代码");
    parse_fails("共{{}}件", "template_syntax", 1, 2, "空的占位符");
    parse_fails("第{{year-0}}年", "template_syntax", 1, 2, "年份");
    parse_fails("a\n\n  {{#passage intro}}开头\n文字", "template_syntax", 3, 3, "没有结束");
    parse_fails("正文{{/passage}}", "template_syntax", 1, 3, "多余");
    parse_fails("{{#passage p}}文字{{mediation_cases}}{{/passage}}", "template_syntax", 1, 17, "不能有占位符");
    parse_fails("## 标题{{#passage p}}x{{/passage}}", "template_syntax", 1, 6, "正文");
    parse_fails("## 标题{{passage:p}}", "template_syntax", 1, 6, "正文");
    parse_fails("{{passage:p}}\n\n{{passage:p}}", "template_syntax", 3, 1, "重复");
    parse_fails("{{passage:Bad}}", "template_syntax", 1, 1, "段落名");
    parse_fails("{{#passage}}", "template_syntax", 1, 1, "未知的区块");
    parse_fails("正文 <!-- 注释没有结束\n……", "template_syntax", 1, 4, "注释");
    parse_fails("@sign 慈溪市司法局", "template_syntax", 1, 1, "行指令");
    parse_fails("##### 五级", "template_syntax", 1, 1, "标题");
    parse_fails("#没有空格", "template_syntax", 1, 1, "标题");
    parse_fails("# ", "template_syntax", 0, 0, NULL); /* "# " trims to "#": not a heading */
    parse_fails("@addressee  ", "template_syntax", 0, 0, NULL);
    parse_fails("", "template_syntax", 1, 1, "空");
    parse_fails("<!-- 只有注释 -->\n", "template_syntax", 1, 1, "空");
    parse_fails("好\xff坏", "template_syntax", 1, 2, "UTF-8");
    char nul[] = "ab\0c";
    struct sifa_report_template *t = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_template_parse(nul, 4, "t.md", &t, &err), SIFA_EINVALID);
    assert_int_equal(json_integer_value(json_object_get(err.details, "column")), 3);
    sifa_error_release(&err);
}

static void test_template_limits(void **state)
{
    (void)state;
    size_t n = SIFA_REPORT_TEMPLATE_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    struct sifa_report_template *t = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_template_parse(big, n, "t.md", &t, &err), SIFA_ELIMIT);
    assert_string_equal(err.code, "template_too_large");
    sifa_error_release(&err);
    /* placeholders beyond the maximum */
    size_t many = SIFA_REPORT_PLACEHOLDERS_MAX + 1, o = 0;
    char *text = malloc(many * 8 + 1);
    for (size_t i = 0; i < many; i++)
        o += (size_t)snprintf(text + o, 9, "{{year}}");
    assert_int_equal(sifa_report_template_parse(text, o, "t.md", &t, &err), SIFA_EINVALID);
    assert_non_null(strstr(err.message, "占位符过多"));
    sifa_error_release(&err);
    /* an overlong placeholder */
    memset(big, 'a', 400);
    memcpy(big, "{{", 2);
    memcpy(big + 398, "}}", 2);
    assert_int_equal(sifa_report_template_parse(big, 400, "t.md", &t, &err), SIFA_EINVALID);
    assert_non_null(strstr(err.message, "过长"));
    sifa_error_release(&err);
    /* a passage's default beyond its maximum */
    size_t plen = SIFA_REPORT_PASSAGE_MAX_BYTES + 64;
    char *passage = malloc(plen + 64);
    size_t k = (size_t)snprintf(passage, 32, "{{#passage p}}");
    memset(passage + k, 'x', SIFA_REPORT_PASSAGE_MAX_BYTES + 1);
    k += SIFA_REPORT_PASSAGE_MAX_BYTES + 1;
    k += (size_t)snprintf(passage + k, 32, "{{/passage}}");
    assert_int_equal(sifa_report_template_parse(passage, k, "t.md", &t, &err), SIFA_EINVALID);
    assert_non_null(strstr(err.message, "过长"));
    sifa_error_release(&err);
    free(passage);
    free(text);
    free(big);
}

static void test_template_structure(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF<!-- 说明:{{不是占位符}} -->\n"
                       "# 关于{{year}}年度的报告\n"
                       "@addressee 市委、市政府:\n"
                       "## 一、成效\n"
                       "{{#passage intro}}\n"
                       "第一段第一行,\n"
                       "  第一段第二行。  \n"
                       "\n"
                       "\n"
                       "第二段。\n"
                       "{{/passage}}共调处{{mediation_cases}}件,<!-- 行内注释 -->成功{{mediation_succeeded}}件,\n"
                       "<!-- 整行注释不断段 -->\n"
                       "又{{mediation_cases|余}}件。{{passage:problems}}\n"
                       "\n"
                       "@signature 慈溪市司法局\n"
                       "@date {{date}}\n";
    struct sifa_report_template *t = parse_ok(text);
    assert_int_equal(sifa_report_template_ncodes(t), 2);
    assert_string_equal(sifa_report_template_code(t, 0), "mediation_cases");
    assert_string_equal(sifa_report_template_code(t, 1), "mediation_succeeded");
    assert_null(sifa_report_template_code(t, 2));
    assert_int_equal(sifa_report_template_npassages(t), 2);
    assert_string_equal(sifa_report_template_passage_key(t, 0), "intro");
    assert_string_equal(sifa_report_template_passage_default(t, 0), "第一段第一行,第一段第二行。\n第二段。");
    assert_string_equal(sifa_report_template_passage_key(t, 1), "problems");
    assert_string_equal(sifa_report_template_passage_default(t, 1), "");
    assert_int_equal(sifa_report_template_find_passage(t, "problems"), 1);
    assert_int_equal(sifa_report_template_find_passage(t, "nope"), -1);
    sifa_report_template_free(t);
    sifa_report_template_free(NULL);

    /* the bureau's template parses, uses all 80 figures of the golden list and every passage has a default */
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_template_load("reports/annual.md", &t, &err), 0);
    assert_true(sifa_report_template_ncodes(t) >= 80);
    FILE *f = fopen("tests/golden/cixi-2021-figures.tsv", "r");
    assert_non_null(f);
    char line[1024];
    size_t rows = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL || strncmp(line, "key\t", 4) == 0)
            continue;
        *tab = '\0';
        bool found = false;
        for (size_t i = 0; i < sifa_report_template_ncodes(t); i++)
            found = found || strcmp(sifa_report_template_code(t, i), line) == 0;
        if (!found)
            print_message("the template lacks %s\n", line);
        assert_true(found);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 80);
    for (size_t i = 0; i < sifa_report_template_npassages(t); i++)
        assert_true(strlen(sifa_report_template_passage_default(t, i)) > 0);
    sifa_report_template_free(t);
    assert_int_equal(sifa_report_template_load("/nonexistent/annual.md", &t, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "template_missing");
    sifa_error_release(&err);
}

/* ---------- formats ---------- */

static json_t *item_of(const char *text)
{
    return json_pack("{s:s,s:s?,s:b}", "indicator", "x", "text", text, "has_data", text != NULL);
}

static void formats_to(const char *spec, const char *value, const char *want)
{
    json_t *item = item_of(value);
    char *got = NULL;
    struct sifa_error err = {0};
    int r = sifa_report_format_figure(spec, item, &got, &err);
    if (r < 0)
        print_message("%s|%s: %s\n", value, spec ? spec : "", err.message);
    assert_int_equal(r, 0);
    if (strcmp(got, want) != 0)
        print_message("%s|%s gave %s, want %s\n", value, spec ? spec : "", got, want);
    assert_string_equal(got, want);
    free(got);
    json_decref(item);
}

static void test_formats(void **state)
{
    (void)state;
    /* the statistics' own text: rates at their declared digits */
    formats_to(NULL, "12033", "12033");
    formats_to("", "99.9", "99.9");
    formats_to(NULL, "4.40", "4.40");
    formats_to(NULL, "72.73", "72.73");
    /* trim */
    formats_to("trim", "100.0", "100");
    formats_to("trim", "4.40", "4.4");
    formats_to("trim", "12033", "12033");
    formats_to("trim", "-0.00", "0");
    formats_to("trim", "0.50", "0.5");
    /* money and scales: half up, the unit word with 元 */
    formats_to("亿元:2", "178036420.00", "1.78亿元");
    formats_to("亿元", "178036420.00", "1.78亿元");
    formats_to("亿:2", "178036420.00", "1.78亿");
    formats_to("亿元:2", "149999999.99", "1.50亿元");
    formats_to("亿元:2", "149499999.99", "1.49亿元");
    formats_to("万元:1", "178036420.00", "17803.6万元");
    formats_to("万元:2", "500.00", "0.05万元");
    formats_to("万元:2", "49.99", "0.00万元");
    formats_to("万元:0", "15000.00", "2万元");
    formats_to("元:0", "178036420.50", "178036421元");
    formats_to("元", "12.05", "12.05元");
    formats_to("元:4", "12.05", "12.0500元");
    formats_to("万:1", "53816", "5.4万");
    formats_to("亿元:2", "-178036420.00", "-1.78亿元");
    /* 余: two leading digits (one for two-digit values), exact values without 余 */
    formats_to("余", "56", "50余");
    formats_to("余", "256", "250余");
    formats_to("余", "3218", "3200余");
    formats_to("余", "926", "920余");
    formats_to("余:100", "926", "900余");
    formats_to("余", "12033", "12000余");
    formats_to("余", "50", "50");
    formats_to("余", "7", "7");
    formats_to("余", "0", "0");
    formats_to("余", "7.5", "7余");
    formats_to("余:1000", "926", "0余");
    formats_to("余", "-56", "-56");
    /* floor (the text around says 以上) and 超过 */
    formats_to("floor", "82.2", "80");
    formats_to("floor:5", "82.2", "80");
    formats_to("floor:1", "82.2", "82");
    formats_to("超过", "56", "超过50");
    formats_to("超过", "60", "60");
    formats_to("超过万", "53816", "超过5万");
    formats_to("超过万", "50000", "5万");
    formats_to("超过万", "123456", "超过12万");
    formats_to("超过万", "9500", "9500");
    formats_to("超过亿", "178036420.00", "超过1亿");

    /* phrase: a change indicator's own phrase, or the compared year's */
    json_t *item = json_pack("{s:s,s:b,s:s}", "text", "-14.88", "has_data", 1, "phrase", "同比下降14.88%");
    char *got = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_format_figure("phrase", item, &got, &err), 0);
    assert_string_equal(got, "同比下降14.88%");
    free(got);
    json_decref(item);
    item = json_pack("{s:s,s:b,s:{s:s}}", "text", "206", "has_data", 1, "change", "phrase", "同比上升3.20%");
    assert_int_equal(sifa_report_format_figure("phrase", item, &got, &err), 0);
    assert_string_equal(got, "同比上升3.20%");
    free(got);
    json_decref(item);
    item = json_pack("{s:s,s:b}", "text", "206", "has_data", 1); /* no previous year */
    assert_int_equal(sifa_report_format_figure("phrase", item, &got, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "no_data");
    sifa_error_release(&err);
    json_decref(item);

    /* no data: every format says so, none prints 0 */
    const char *specs[] = {NULL, "trim", "亿元:2", "余", "floor", "超过万", "phrase"};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(specs); i++) {
        item = json_pack("{s:n,s:b,s:s,s:s}", "text", "has_data", 0, "reason", "no_data", "indicator", "x");
        got = NULL;
        assert_int_equal(sifa_report_format_figure(specs[i], item, &got, &err), SIFA_ENOTFOUND);
        assert_null(got);
        sifa_error_release(&err);
        json_decref(item);
    }
    item = item_of("5");
    assert_int_equal(sifa_report_format_figure("bogus", item, &got, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "template_format");
    sifa_error_release(&err);
    json_decref(item);
}

/* ---------- renderers ---------- */

static struct sifa_doc *sample_doc(void)
{
    struct sifa_doc *doc = sifa_doc_new("关于<2021>年度的报告");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_TITLE), "关于<2021>年度的报告");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_ADDRESSEE), "市委、市政府:");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_HEADING1), "一、主要举措和成效");
    struct sifa_doc_block *b = sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH);
    sifa_doc_add_text(b, "共调处");
    sifa_doc_add_figure(b, "12033", "mediation_cases", "/api/v1/indicators/mediation_cases/records?period=2021", false);
    sifa_doc_add_text(b, "件,金额");
    sifa_doc_add_figure(b, "【无数据】", "mediation_amount", "/api/v1/indicators/mediation_amount/records?period=2021&org=a%20b",
                        true);
    sifa_doc_add_text(b, ";符号 *a_b* [x](y) <script>alert('&')</script> \"q\"");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH), "1. 不是列表\n# 不是标题");
    sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH); /* empty: left out */
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_SIGNATURE), "慈溪市司法局");
    sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_DATE), "2022年2月28日");
    return doc;
}

static void test_markdown(void **state)
{
    (void)state;
    struct sifa_doc *doc = sample_doc();
    char *md = NULL;
    size_t len = 0;
    struct sifa_error err = {0};
    assert_int_equal(sifa_doc_to_markdown(doc, &md, &len, &err), 0);
    assert_int_equal(strlen(md), len);
    assert_non_null(strstr(md, "# 关于\\<2021\\>年度的报告\n\n市委、市政府:\n\n## 一、主要举措和成效\n\n"));
    assert_non_null(strstr(md, "共调处[12033](/api/v1/indicators/mediation_cases/records?period=2021)件"));
    assert_non_null(strstr(md, "**[【无数据】](/api/v1/indicators/mediation_amount/records?period=2021&org=a%20b)**"));
    assert_non_null(strstr(md, "\\*a\\_b\\* \\[x\\](y) \\<script\\>"));
    assert_non_null(strstr(md, "1\\. 不是列表 \\# 不是标题"));
    assert_non_null(strstr(md, "慈溪市司法局\n\n2022年2月28日\n\n"));
    assert_null(strstr(md, "\n\n\n"));
    free(md);
    assert_int_equal(sifa_doc_to_markdown(NULL, &md, &len, &err), SIFA_EINTERNAL);
    sifa_error_release(&err);
    sifa_doc_free(doc);
    /* an empty document is an empty text */
    doc = sifa_doc_new("");
    assert_int_equal(sifa_doc_to_markdown(doc, &md, &len, &err), 0);
    assert_int_equal(len, 0);
    assert_string_equal(md, "");
    free(md);
    sifa_doc_free(doc);
}

static void test_html(void **state)
{
    (void)state;
    struct sifa_doc *doc = sample_doc();
    char *html = NULL;
    size_t len = 0;
    struct sifa_error err = {0};
    assert_int_equal(sifa_doc_to_html(doc, &html, &len, &err), 0);
    assert_int_equal(strlen(html), len);
    assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
    assert_non_null(strstr(html, "<title>关于&lt;2021&gt;年度的报告</title>"));
    assert_non_null(strstr(html, "<h1>关于&lt;2021&gt;年度的报告</h1>"));
    assert_non_null(strstr(html, "<p class=\"addressee\">市委、市政府:</p>"));
    assert_non_null(strstr(html, "<h2>一、主要举措和成效</h2>"));
    assert_non_null(strstr(html, "<a class=\"figure\" href=\"/api/v1/indicators/mediation_cases/records?period=2021\" "
                                 "data-indicator=\"mediation_cases\">12033</a>"));
    assert_non_null(strstr(html, "<a class=\"figure missing\" href=\"/api/v1/indicators/mediation_amount/records?"
                                 "period=2021&amp;org=a%20b\" data-indicator=\"mediation_amount\""));
    assert_non_null(strstr(html, ">【无数据】</a>"));
    assert_non_null(strstr(html, ".missing{"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;&amp;&#39;)&lt;/script&gt; &quot;q&quot;"));
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "<p class=\"signature\">慈溪市司法局</p>"));
    assert_non_null(strstr(html, "<p class=\"date\">2022年2月28日</p>"));
    assert_null(strstr(html, "<p></p>"));
    assert_non_null(strstr(html, "</article>\n</body>\n</html>\n"));
    free(html);
    sifa_doc_free(doc);
}

static void test_render_limits(void **state)
{
    (void)state;
    struct sifa_doc *doc = sifa_doc_new("大");
    for (int i = 0; i < 10001; i++)
        sifa_doc_add_text(sifa_doc_add_block(doc, SIFA_BLOCK_PARAGRAPH), "段");
    char *buf = NULL;
    size_t len = 0;
    struct sifa_error err = {0};
    assert_int_equal(sifa_doc_to_markdown(doc, &buf, &len, &err), SIFA_ELIMIT);
    assert_string_equal(err.code, "document_too_large");
    sifa_error_release(&err);
    assert_int_equal(sifa_doc_to_html(doc, &buf, &len, &err), SIFA_ELIMIT);
    sifa_error_release(&err);
    assert_null(buf);
    sifa_doc_free(doc);
}

/* ---------- building a report on a real database ---------- */

static const char MODULE[] =
    "code: dispute\n"
    "name: 纠纷\n"
    "org_field: unit\n"
    "fields:\n"
    "  - {code: unit, name: 单位, type: org, required: true}\n"
    "  - {code: concluded_on, name: 结案日期, type: date, required: true}\n"
    "  - {code: success, name: 成功, type: bool}\n"
    "  - {code: amount, name: 金额, type: money, min: 0}\n"
    "states:\n"
    "  - {code: open, name: 办理中, initial: true}\n";
static const char CODES[] = "code: unused\nname: 未用\nitems:\n  - {code: a, label: 甲}\n";
static const char INDICATORS[] =
    "indicators:\n"
    "  - {code: cases, name: 调处纠纷, unit: 件, kind: count, module: dispute, date: concluded_on}\n"
    "  - {code: succeeded, name: 调解成功, unit: 件, kind: count, module: dispute, date: concluded_on,\n"
    "     where: [{field: success, eq: true}]}\n"
    "  - {code: success_rate, name: 调解成功率, unit: \"%\", kind: ratio, of: [succeeded, cases], digits: 1}\n"
    "  - {code: amount, name: 涉及金额, unit: 元, kind: sum, module: dispute, date: concluded_on, field: amount}\n"
    "  - {code: cases_yoy, name: 纠纷同比, unit: \"%\", kind: change, of: cases}\n";

struct fixture {
    char dir[64], path[96];
    struct sifa_db *db;
    struct sifa_model *model;
    const struct sifa_module *m;
    struct sifa_record_ctx rc;
    struct sifa_org_tree *tree;
};

static int setup_db(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/sifa_test_report.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/r.db", f->dir);
    struct sifa_error err = {0};
    struct sifa_db_config cfg;
    sifa_db_config_init(&cfg, f->path);
    cfg.create = true;
    cfg.synchronous_full = false;
    assert_int_equal(sifa_db_open(&cfg, &f->db, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_db_core_migrations, sifa_db_core_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_auth_migrations, sifa_auth_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_report_migrations, sifa_report_migrations_count, &err), 0);
    assert_int_equal(sifa_db_migrate(f->db, sifa_report_migrations, sifa_report_migrations_count, &err), 0); /* again: no-op */
    assert_int_equal(sifa_record_connection_init(f->db, &err), 0);
    json_t *errors = NULL;
    int r = sifa_model_load_text("dispute.yaml", MODULE, strlen(MODULE), CODES, strlen(CODES), &f->model, &errors, &err);
    if (r < 0) {
        char *s = json_dumps(errors, JSON_INDENT(1));
        print_message("%s\n", s ? s : err.message);
        free(s);
    }
    assert_int_equal(r, 0);
    r = sifa_model_load_indicators_text(f->model, "i.yaml", INDICATORS, strlen(INDICATORS), &errors, &err);
    if (r < 0) {
        char *s = json_dumps(errors, JSON_INDENT(1));
        print_message("%s\n", s ? s : err.message);
        free(s);
    }
    assert_int_equal(r, 0);
    f->m = sifa_model_module(f->model, "dispute");
    assert_int_equal(sifa_db_exec(f->db,
                                  "INSERT INTO orgs (code, name, kind, parent, path, created_at, updated_at) VALUES "
                                  "('city', '慈溪市', 'city', NULL, '/city/', '', ''),"
                                  "('t1', '一镇', 'town', 'city', '/city/t1/', '', ''),"
                                  "('t2', '二 镇&', 'town', 'city', '/city/t2/', '', '')",
                                  &err),
                     0);
    json_t *changes = NULL;
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_record_sync_schema(f->db, f->model, &changes, &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    json_decref(changes);
    f->rc = (struct sifa_record_ctx){.model = f->model, .scope = SIFA_RECORD_SCOPE_ALL, .actor = "tester",
                                     .now = 1632787200};
    /* 2020: 4 cases in t1; 2021: 3 in t1 (2 succeeded), none in t2 */
    const struct {
        const char *unit, *on, *amount;
        bool success;
    } rows[] = {{"t1", "2020-03-01", "10.00", true},       {"t1", "2020-04-01", "10.00", false},
                {"t1", "2020-05-01", "10.00", true},       {"t1", "2020-06-01", "10.00", true},
                {"t1", "2021-03-01", "100000000.00", true}, {"t1", "2021-04-01", "78036420.00", true},
                {"t1", "2021-05-01", NULL, false}};
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(rows); i++) {
        json_t *in = json_pack("{s:s,s:s,s:b}", "unit", rows[i].unit, "concluded_on", rows[i].on, "success", rows[i].success);
        if (rows[i].amount)
            json_object_set_new(in, "amount", json_string(rows[i].amount));
        json_t *values = NULL, *rec = NULL;
        assert_int_equal(sifa_record_validate(&f->rc, f->m, in, false, &values, &err), 0);
        assert_int_equal(sifa_db_begin(f->db, &err), 0);
        assert_int_equal(sifa_record_create(f->db, &f->rc, f->m, values, &rec, &err), 0);
        assert_int_equal(sifa_record_flush_search(f->db, f->model, &err), 0);
        assert_int_equal(sifa_db_commit(f->db, &err), 0);
        json_decref(in);
        json_decref(values);
        json_decref(rec);
    }
    assert_int_equal(sifa_org_tree_load(f->db, &f->tree, &err), 0);
    *state = f;
    return 0;
}

static int teardown_db(void **state)
{
    struct fixture *f = *state;
    sifa_org_tree_free(f->tree);
    sifa_db_close(f->db);
    sifa_model_free(f->model);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        print_message("could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static const char TEMPLATE[] = "# {{org_name}}{{year}}年度报告\n"
                               "@addressee 市委、市政府:\n"
                               "## 一、成效\n"
                               "{{#passage intro}}默认引言。{{/passage}}{{year}}年共调处{{cases}}件,成功{{succeeded}}件,"
                               "成功率{{success_rate}}%,涉及金额{{amount|亿元:2}},调处量{{cases_yoy|phrase}},"
                               "成功量{{succeeded|phrase}}。\n"
                               "\n"
                               "{{passage:problems}}\n"
                               "@signature 慈溪市司法局\n"
                               "@date {{date}}\n";

/* Builds the sample report and returns its Markdown (new). */
static char *build_md(struct fixture *f, const char *tmpl_text, int year, const char *org, json_t *passages,
                      const struct sifa_record_scope *(*scope_for)(void *, const struct sifa_module *),
                      json_t **ret_info, struct sifa_doc **ret_doc)
{
    struct sifa_report_template *t = parse_ok(tmpl_text);
    struct sifa_report_request req = {.tmpl = t, .model = f->model, .tree = f->tree, .scope_for = scope_for,
                                      .year = year, .org = org, .date = 20220228, .passages = passages};
    struct sifa_doc *doc = NULL;
    json_t *info = NULL;
    struct sifa_error err = {0};
    int r = sifa_report_annual_build(f->db, &req, &doc, &info, &err);
    if (r < 0)
        print_message("%s\n", err.message);
    assert_int_equal(r, 0);
    char *md = NULL;
    size_t len = 0;
    assert_int_equal(sifa_doc_to_markdown(doc, &md, &len, &err), 0);
    if (ret_info)
        *ret_info = info;
    else
        json_decref(info);
    if (ret_doc)
        *ret_doc = doc;
    else
        sifa_doc_free(doc);
    sifa_report_template_free(t);
    return md;
}

static void test_build_figures_from_records(void **state)
{
    struct fixture *f = *state;
    json_t *info = NULL;
    struct sifa_doc *doc = NULL;
    char *md = build_md(f, TEMPLATE, 2021, NULL, NULL, sifa_stats_scope_all, &info, &doc);
    assert_non_null(strstr(md, "# 慈溪市2021年度报告\n\n市委、市政府:\n\n## 一、成效\n\n"));
    assert_non_null(strstr(md, "默认引言。2021年共调处[3](/api/v1/indicators/cases/records?period=2021)件,"
                               "成功[2](/api/v1/indicators/succeeded/records?period=2021)件,"
                               "成功率[66.7](/api/v1/indicators/success_rate/records?period=2021)%,"
                               "涉及金额[1.78亿元](/api/v1/indicators/amount/records?period=2021),"
                               "调处量[同比下降25.00%](/api/v1/indicators/cases_yoy/records?period=2021),"
                               "成功量[同比下降33.33%](/api/v1/indicators/succeeded/records?period=2021)。"));
    assert_non_null(strstr(md, "\n\n【待撰写】\n\n慈溪市司法局\n\n2022年2月28日\n\n"));
    assert_string_equal(doc->title, "慈溪市2021年度报告");
    assert_int_equal(json_integer_value(json_object_get(info, "figures")), 6);
    assert_int_equal(json_array_size(json_object_get(info, "missing")), 0);
    /* the figure runs carry their indicator and are not missing */
    size_t figures = 0;
    for (size_t i = 0; i < doc->nblocks; i++)
        for (size_t k = 0; k < doc->blocks[i].nruns; k++)
            if (doc->blocks[i].runs[k].kind == SIFA_RUN_FIGURE) {
                figures++;
                assert_non_null(doc->blocks[i].runs[k].indicator);
                assert_false(doc->blocks[i].runs[k].missing);
            }
    assert_int_equal(figures, 6);
    json_decref(info);
    sifa_doc_free(doc);
    free(md);
}

static void test_missing_figures_are_flagged(void **state)
{
    struct fixture *f = *state;
    json_t *info = NULL;
    struct sifa_doc *doc = NULL;
    /* t2 has no records at all: every figure is missing, none is 0; the href names the org */
    char *md = build_md(f, TEMPLATE, 2021, "t2", NULL, sifa_stats_scope_all, &info, &doc);
    assert_non_null(strstr(md, "# 二 镇\\&2021年度报告")); /* & escaped */
    assert_non_null(strstr(md, "共调处**[【无数据】](/api/v1/indicators/cases/records?period=2021&org=t2)**件"));
    assert_null(strstr(md, "[0]"));
    assert_int_equal(json_array_size(json_object_get(info, "missing")), 5);
    size_t missing = 0;
    for (size_t i = 0; i < doc->nblocks; i++)
        for (size_t k = 0; k < doc->blocks[i].nruns; k++)
            if (doc->blocks[i].runs[k].kind == SIFA_RUN_FIGURE) {
                assert_true(doc->blocks[i].runs[k].missing);
                assert_string_equal(doc->blocks[i].runs[k].text, "【无数据】");
                missing++;
            }
    assert_int_equal(missing, 6);
    json_decref(info);
    sifa_doc_free(doc);
    free(md);
    /* 2019: no records; the change and its phrase have nothing to compare */
    md = build_md(f, TEMPLATE, 2019, NULL, NULL, sifa_stats_scope_all, NULL, NULL);
    assert_non_null(strstr(md, "调处量**[【无数据】](/api/v1/indicators/cases_yoy/records?period=2019)**"));
    free(md);
}

static const struct sifa_record_scope *deny_all(void *arg, const struct sifa_module *m)
{
    (void)arg;
    (void)m;
    return NULL;
}

static void test_denied_figures_and_errors(void **state)
{
    struct fixture *f = *state;
    json_t *info = NULL;
    char *md = build_md(f, TEMPLATE, 2021, NULL, NULL, deny_all, &info, NULL);
    assert_non_null(strstr(md, "共调处**[【无权查看】](/api/v1/indicators/cases/records?period=2021)**件"));
    assert_int_equal(json_array_size(json_object_get(info, "denied")), 5);
    json_decref(info);
    free(md);

    struct sifa_error err = {0};
    struct sifa_doc *doc = NULL;
    struct sifa_report_template *t = parse_ok("# 报告\n\n共{{no_such_figure}}件");
    struct sifa_report_request req = {.tmpl = t, .model = f->model, .tree = f->tree,
                                      .scope_for = sifa_stats_scope_all, .year = 2021};
    assert_int_equal(sifa_report_annual_build(f->db, &req, &doc, NULL, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "template_indicator");
    assert_non_null(strstr(err.message, "t.md:3:2:"));
    sifa_error_release(&err);
    sifa_report_template_free(t);
    t = parse_ok("共{{cases|亿元:2}}件");
    req.tmpl = t;
    assert_int_equal(sifa_report_annual_build(f->db, &req, &doc, NULL, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "template_format");
    sifa_error_release(&err);
    sifa_report_template_free(t);
    t = parse_ok("共{{cases}}件");
    req.tmpl = t;
    req.org = "nowhere";
    assert_int_equal(sifa_report_annual_build(f->db, &req, &doc, NULL, &err), SIFA_ENOTFOUND);
    assert_string_equal(err.code, "org_not_found");
    sifa_error_release(&err);
    req.org = NULL;
    req.year = 1800;
    assert_int_equal(sifa_report_annual_build(f->db, &req, &doc, NULL, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "bad_year");
    sifa_error_release(&err);
    sifa_report_template_free(t);
}

static void test_passages_store_and_replace_defaults(void **state)
{
    struct fixture *f = *state;
    struct sifa_error err = {0};
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "intro", "新的引言,\n\n  第二段。  \n", "staff", "2022-01-05T08:00:00Z", &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "problems", "一是……", "staff", "2022-01-05T08:00:00Z", &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, "t1", "intro", "一镇的引言。", NULL, "2022-01-05T08:00:00Z", &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2020, NULL, "intro", "去年的引言。", NULL, "2021-01-05T08:00:00Z", &err), 0);
    /* a second put replaces the first */
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "problems", "一是问题。", "staff2", "2022-01-06T08:00:00Z", &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    json_t *stored = NULL;
    assert_int_equal(sifa_report_passages_load(f->db, 2021, NULL, &stored, &err), 0);
    assert_int_equal(json_object_size(stored), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(stored, "problems"), "text")), "一是问题。");
    assert_string_equal(json_string_value(json_object_get(json_object_get(stored, "problems"), "updated_by")), "staff2");
    json_t *texts = sifa_report_passages_texts(stored);
    char *md = build_md(f, TEMPLATE, 2021, NULL, texts, sifa_stats_scope_all, NULL, NULL);
    /* a stored passage of several paragraphs: its first continues the paragraph, the rest open new ones */
    assert_non_null(strstr(md, "## 一、成效\n\n新的引言,\n\n第二段。2021年共调处[3]"));
    assert_null(strstr(md, "默认引言"));
    assert_non_null(strstr(md, "\n\n一是问题。\n\n慈溪市司法局"));
    free(md);
    json_decref(texts);
    json_decref(stored);
    /* per org */
    assert_int_equal(sifa_report_passages_load(f->db, 2021, "t1", &stored, &err), 0);
    texts = sifa_report_passages_texts(stored);
    md = build_md(f, TEMPLATE, 2021, "t1", texts, sifa_stats_scope_all, NULL, NULL);
    assert_non_null(strstr(md, "一镇的引言。2021年共调处"));
    free(md);
    json_decref(texts);
    json_decref(stored);
    /* an emptied passage leaves no empty paragraph; a removed one returns to the default */
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "problems", "", "staff", "2022-01-07T08:00:00Z", &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "intro", NULL, "staff", "2022-01-07T08:00:00Z", &err), 0);
    assert_int_equal(sifa_db_commit(f->db, &err), 0);
    assert_int_equal(sifa_report_passages_load(f->db, 2021, NULL, &stored, &err), 0);
    assert_int_equal(json_object_size(stored), 1);
    texts = sifa_report_passages_texts(stored);
    md = build_md(f, TEMPLATE, 2021, NULL, texts, sifa_stats_scope_all, NULL, NULL);
    assert_non_null(strstr(md, "默认引言。2021年"));
    assert_non_null(strstr(md, "。\n\n慈溪市司法局"));
    assert_null(strstr(md, "待撰写"));
    free(md);
    json_decref(texts);
    json_decref(stored);
    /* validation */
    assert_int_equal(sifa_report_passage_validate("正常\n文字\t。", &err), 0);
    assert_int_equal(sifa_report_passage_validate("控制\x01字符", &err), SIFA_EINVALID);
    assert_string_equal(err.code, "validation");
    sifa_error_release(&err);
    assert_int_equal(sifa_report_passage_validate("坏\xff", &err), SIFA_EINVALID);
    sifa_error_release(&err);
    char *big = malloc(SIFA_REPORT_PASSAGE_MAX_BYTES + 2);
    memset(big, 'a', SIFA_REPORT_PASSAGE_MAX_BYTES + 1);
    big[SIFA_REPORT_PASSAGE_MAX_BYTES + 1] = '\0';
    assert_int_equal(sifa_report_passage_validate(big, &err), SIFA_ELIMIT);
    sifa_error_release(&err);
    assert_int_equal(sifa_db_begin(f->db, &err), 0);
    assert_int_equal(sifa_report_passage_put(f->db, 2021, NULL, "intro", big, "staff", "x", &err), SIFA_ELIMIT);
    sifa_db_rollback(f->db, NULL);
    sifa_error_release(&err);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_errors_name_line_and_column),
        cmocka_unit_test(test_template_limits),
        cmocka_unit_test(test_template_structure),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_render_limits),
        cmocka_unit_test_setup_teardown(test_build_figures_from_records, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_missing_figures_are_flagged, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_denied_figures_and_errors, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_passages_store_and_replace_defaults, setup_db, teardown_db),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
