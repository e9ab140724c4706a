/* test_check_report.c — unit tests for the report checker (src/report/check.c) without a
 * database: the real 2021 report (exactly one MISMATCH, its own 72.72%; the sums, lists and
 * rates it gets right are OK), the planted-error texts of tests/golden/check (every planted error
 * found, nothing else), number parsing at its edges (亿/万/余/超过, years, dates, 12·4, ordinals,
 * titles, quotes, ranges, codes, full-width digits), rounding half up to the digits written,
 * the conservative cases that must not become mismatches, positions in characters, the input
 * limits and invalid UTF-8, the report's year (title, opening, default), the text rendering, and DOCX text extraction.
 * Runs from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "base/common.h"
#include "report/check.h"

#define GOLDEN "tests/golden/check/"

static char *read_file(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *ret_len = (size_t)n;
    return buf;
}

/* Checks text (an exact heap copy, so ASan sees reads past the end) without a database. */
static json_t *check_len(const char *text, size_t len, int year)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    struct sifa_check_report_options opt = {.year = year};
    json_t *result = NULL;
    struct sifa_error err = {0};
    int rc = sifa_report_check(copy, len, &opt, &result, &err);
    if (rc < 0)
        fail_msg("check failed: %s [%s]", err.message, err.code);
    free(copy);
    assert_non_null(result);
    return result;
}

static json_t *check(const char *text)
{
    return check_len(text, strlen(text), 2021);
}

static json_t *check_file(const char *name, int year)
{
    size_t len;
    char path[256];
    snprintf(path, sizeof(path), GOLDEN "%s", name);
    char *text = read_file(path, &len);
    json_t *r = check_len(text, len, year);
    free(text);
    return r;
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The claim on line written as text (the first when line is 0). */
static json_t *claim(json_t *result, int line, const char *text)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(result, "claims"), i, c)
    {
        if ((line == 0 || json_integer_value(json_object_get(c, "line")) == line) && strcmp(str(c, "text"), text) == 0)
            return c;
    }
    fail_msg("no claim %s on line %d", text, line);
    return NULL;
}

static bool has_check(json_t *c, const char *type, const char *status)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c, "checks"), i, k)
    {
        if (strcmp(str(k, "type"), type) == 0 && strcmp(str(k, "status"), status) == 0)
            return true;
    }
    return false;
}

static void claim_is(json_t *result, int line, const char *text, const char *status, const char *computed)
{
    json_t *c = claim(result, line, text);
    if (strcmp(str(c, "status"), status) != 0)
        fail_msg("%s on line %d: %s, expected %s (%s)", text, line, str(c, "status"), status,
                 str(c, "note") ? str(c, "note") : "");
    if (computed != NULL)
        assert_string_equal(str(c, "computed"), computed);
}

static size_t count(json_t *result, const char *status)
{
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(json_object_get(result, "claims"), i, c) n += strcmp(str(c, "status"), status) == 0;
    return n;
}

/* "text|value|unit|approx;…" of every claim, approx "-" when exact. */
static char *claims_summary(json_t *result)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(result, "claims"), i, c)
    {
        fprintf(f, "%s%s|%s|%s|%s", i ? ";" : "", str(c, "text"), str(c, "value"), str(c, "unit"),
                str(c, "approx") ? str(c, "approx") : "-");
    }
    fclose(f);
    return buf;
}

/* ---------- the real report ---------- */

static void test_fixture_text_only(void **state)
{
    (void)state;
    json_t *r = check_file("cixi-2021.txt", 2021);
    assert_false(json_is_true(json_object_get(r, "database")));
    /* the report's own error, and no other */
    assert_int_equal(json_integer_value(json_object_get(r, "mismatches")), 1);
    assert_int_equal(count(r, "MISMATCH"), 1);
    claim_is(r, 7, "72.72%", "MISMATCH", "72.73");
    assert_true(has_check(claim(r, 7, "72.72%"), "rate", "MISMATCH"));
    assert_int_equal(json_integer_value(json_object_get(claim(r, 7, "72.72%"), "column")), 449);
    /* parts and whole, lists, rates the report gets right */
    claim_is(r, 6, "634件", "OK", "634");
    assert_true(has_check(claim(r, 6, "634件"), "sum", "OK"));
    claim_is(r, 6, "5件", "OK", "5");
    claim_is(r, 7, "99.9%", "OK", "99.9");
    claim_is(r, 6, "4个", "OK", "4");
    assert_true(has_check(claim(r, 6, "4个"), "list", "OK"));
    claim_is(r, 5, "3条", "OK", "3");
    /* what the text alone cannot settle */
    claim_is(r, 6, "4.40%", "UNVERIFIABLE", NULL); /* 4 of 91: 91 is not in the text */
    claim_is(r, 6, "14.88%", "UNVERIFIABLE", NULL);
    assert_string_equal(str(claim(r, 6, "14.88%"), "kind"), "change");
    assert_string_equal(str(claim(r, 6, "14.88%"), "value"), "-14.88");
    claim_is(r, 7, "100%", "UNVERIFIABLE", NULL);
    claim_is(r, 5, "27个", "UNVERIFIABLE", NULL); /* one name 等27个: an abbreviation, not a list */
    claim_is(r, 5, "51个", "UNVERIFIABLE", NULL); /* 其中30个项目被立项 … 27个: nested, not parts */
    /* numbers that are not figures */
    json_t *c5 = claim(r, 5, "超过5万人");
    assert_string_equal(str(c5, "approx"), "at_least");
    assert_string_equal(str(c5, "unit"), "万人");
    json_t *money = claim(r, 7, "1.78亿元");
    assert_string_equal(str(money, "value"), "1.78");
    assert_string_equal(str(money, "unit"), "亿元");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r, "claims"), i, c)
    {
        const char *t = str(c, "text");
        assert_int_not_equal(json_integer_value(json_object_get(c, "line")), 3); /* only years and titles */
        assert_null(strstr(t, "年"));
        assert_null(strstr(t, "月"));
        assert_null(strstr(t, "小时"));
        assert_null(strstr(t, "12348"));
        assert_null(strstr(t, "·"));
    }
    assert_int_equal(json_array_size(json_object_get(r, "claims")), 79);
    json_decref(r);
}

/* ---------- planted errors ---------- */

static void test_planted_errors(void **state)
{
    (void)state;
    size_t len;
    char *tsv = read_file(GOLDEN "expected.tsv", &len);
    const char *files[] = {"planted-1.txt", "planted-2.txt", "planted-cixi-2021.txt", "cixi-2021.txt"};
    for (size_t f = 0; f < SIFA_ARRAY_SIZE(files); f++) {
        json_t *r = check_file(files[f], 2021);
        size_t expected = 0;
        char *save = NULL, *copy = strdup(tsv);
        for (char *row = strtok_r(copy, "\n", &save); row != NULL; row = strtok_r(NULL, "\n", &save)) {
            char *fields[6] = {0}, *fs = NULL;
            size_t nf = 0;
            for (char *x = strtok_r(row, "\t", &fs); x != NULL && nf < 6; x = strtok_r(NULL, "\t", &fs))
                fields[nf++] = x;
            if (nf < 5 || strcmp(fields[0], files[f]) != 0)
                continue;
            expected++;
            json_t *c = claim(r, (int)strtol(fields[1], NULL, 10), fields[3]);
            if (strcmp(str(c, "status"), "MISMATCH") != 0)
                fail_msg("%s:%s %s not found: %s", files[f], fields[1], fields[3], str(c, "note"));
            assert_int_equal(json_integer_value(json_object_get(c, "column")), strtol(fields[2], NULL, 10));
            assert_string_equal(str(c, "computed"), fields[4]);
        }
        free(copy);
        if (strcmp(files[f], "cixi-2021.txt") == 0)
            assert_int_equal(expected, 0); /* its one error is listed under the planted copy */
        else
            assert_true(expected > 0);
        size_t want = strcmp(files[f], "cixi-2021.txt") == 0 ? 1 : expected;
        if (count(r, "MISMATCH") != want) {
            char *s = sifa_report_check_to_text(r);
            fail_msg("%s: %zu mismatches, expected %zu:\n%s", files[f], count(r, "MISMATCH"), want, s);
        }
        json_decref(r);
    }
    free(tsv);
    /* the correct figures beside the planted ones stay OK; an incomplete list is not an error */
    json_t *r = check_file("planted-1.txt", 0);
    assert_int_equal(json_integer_value(json_object_get(r, "year")), 2022); /* from the first line */
    claim_is(r, 4, "80件", "UNVERIFIABLE", "78"); /* 50 + 22 + 6: maybe not every kind is listed */
    claim_is(r, 5, "40.00%", "OK", "40.00");    /* 占比: the part over its whole */
    claim_is(r, 6, "3处", "OK", "3");
    claim_is(r, 7, "99.8%", "OK", "99.8");
    claim_is(r, 8, "20%", "OK", "20");
    claim_is(r, 8, "13.1%", "MISMATCH", "13.1"); /* a rise written as 同比下降 */
    claim_is(r, 8, "14.87%", "MISMATCH", "-14.88");
    json_decref(r);
    r = check_file("planted-2.txt", 0);
    claim_is(r, 5, "100件", "OK", "100"); /* the outer group around a note in parentheses */
    claim_is(r, 5, "12场", "OK", "12");
    json_decref(r);
}

/* Correct figures written in the ways reports write them: none may be called wrong. */
static void test_correct_phrasings(void **state)
{
    (void)state;
    json_t *r = check_file("correct-phrasings.txt", 0);
    if (count(r, "MISMATCH") != 0) {
        char *s = sifa_report_check_to_text(r);
        fail_msg("mismatches in correct text:\n%s", s);
    }
    claim_is(r, 2, "1520件", "OK", "1520");  /* 其中 … 、 … 、 …, then another figure */
    claim_is(r, 3, "395个", "OK", "395");    /* labels with parentheses */
    claim_is(r, 4, "99.6%", "OK", "99.6");
    claim_is(r, 7, "420人", "OK", "420");
    claim_is(r, 8, "420人", "UNVERIFIABLE", "405"); /* not every kind listed */
    claim_is(r, 11, "943人", "OK", "943");        /* 男 + 女 = whole, then 未成年人: another breakdown */
    claim_is(r, 12, "4521件", "OK", "4521");      /* a change after the parts comments on them */
    claim_is(r, 14, "95.83%", "OK", "95.83");
    claim_is(r, 14, "95%", "OK", "95");
    claim_is(r, 15, "21件", "UNVERIFIABLE", "34"); /* 结案 then 成功: a chain, not parts */
    claim_is(r, 16, "4.63%", "OK", "4.63");       /* last year from the difference */
    claim_is(r, 17, "4.63%", "OK", "4.63");
    claim_is(r, 17, "4.23%", "OK", "-4.23");
    claim_is(r, 16, "50件", "UNVERIFIABLE", NULL);
    json_decref(r);
}

/* ---------- numbers ---------- */

static void parsed(const char *text, const char *want)
{
    json_t *r = check(text);
    char *got = claims_summary(r);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  got:  %s\n  want: %s", text, got, want);
    free(got);
    json_decref(r);
}

static void test_number_parsing(void **state)
{
    (void)state;
    parsed("涉及金额共计1.78亿元。", "1.78亿元|1.78|亿元|-");
    parsed("参与人数超过5万人", "超过5万人|5|万人|at_least");
    parsed("向社会公布重大行政决策50余件", "50余件|50|件|at_least");
    parsed("惠及5万余人", "5万余人|5|万人|at_least");
    parsed("累计为3200余家企业进行体检", "3200余家|3200|家|at_least");
    parsed("网格内化解纠纷占80%以上", "80%以上|80|%|at_least");
    parsed("约200人参加,近100人到场,不足10件", "约200人|200|人|about;近100人|100|人|about;不足10件|10|件|at_most");
    parsed("收到1,234件", "1,234件|1234|件|-");
    parsed("办理１２件", "１２件|12|件|-");
    parsed("成功率12.5%,下降2.5个百分点,增长1.5倍", "12.5%|12.5|%|-;2.5个百分点|2.5|个百分点|-;1.5倍|1.5|倍|-");
    parsed("热线日均30件/日", "30件/日|30|件/日|-");
    parsed("调处12033 件", "12033 件|12033|件|-");
    parsed("挽回损失1500.50元", "1500.50元|1500.50|元|-");
    /* Markdown: links keep their text, emphasis marks go */
    parsed("共有调解组织[395](/api/v1/indicators/x?period=2021)个,**12033**件,![图](a.png)", "395个|395|个|-;12033件|12033|件|-");
    parsed("见[1]和[第2条](#a)", "");
    /* not figures */
    parsed("2021年,共受理12件", "12件|12|件|-");
    parsed("“12·4”系列活动", "");
    parsed("12·4系列活动5场", "5场|5|场|-");
    parsed("截至12月底,自11月起,2022年2月28日", "");
    parsed("第一批、第2批、第3次会议", "");
    parsed("(一)完善体系", "");
    parsed("1.加强组织领导", "");
    parsed("1、加强组织领导", "");
    parsed("(1)加强;(2)完善", "");
    parsed("## 2. 主要成效", "");
    parsed("《行政处罚法》第28条", "");
    parsed("12348热线", "");
    parsed("“12348”热线来电3件", "3件|3|件|-");
    parsed("《纲要(2021-2025年)》和2021—2025年", "");
    parsed("72小时响应率100%", "100%|100|%|-");
    parsed("5G基站3个,H5页面2个", "3个|3|个|-;2个|2|个|-");
    parsed("每组3-5人,3至5人,3~5人", "");
    parsed("10:30召开,比分3:2", "");
    parsed("3个月内办结,60岁以上,3天,24小时,5年", "");
    parsed("361+273=634件", "");
    parsed("‘第十二届’“3个代表”「5项」『6件』〈7人〉\"8件\"", "");
    parsed("1.2.3节,v2.0版", "");
    parsed("序号12345678901234567件", ""); /* too many digits to be a figure */
}

/* ---------- rounding and the rules that keep checks conservative ---------- */

static void test_rounding_half_up(void **state)
{
    (void)state;
    json_t *r = check("共受理8件,调解成功1件,调解成功率13%。共受理8件,调解成功1件,调解成功率12%。"
                      "共受理3件,调解成功2件,调解成功率66.67%。共受理3件,调解成功2件,调解成功率66.66%。"
                      "共受理3件,调解成功1件,调解成功率33.3%。共受理12033件,调解成功12015件,调解成功率99.85%。");
    claim_is(r, 1, "13%", "OK", "13"); /* 12.5 rounds up */
    claim_is(r, 1, "12%", "MISMATCH", "13");
    claim_is(r, 1, "66.67%", "OK", "66.67");
    claim_is(r, 1, "66.66%", "MISMATCH", "66.67"); /* truncated */
    claim_is(r, 1, "33.3%", "OK", "33.3");
    claim_is(r, 1, "99.85%", "OK", "99.85");
    json_decref(r);
}

static void test_conservative(void **state)
{
    (void)state;
    /* parts that need not be all of the whole */
    json_t *r = check("共办理案件100件,其中刑事案件40件,民事案件50件。");
    claim_is(r, 1, "100件", "UNVERIFIABLE", "90");
    json_decref(r);
    /* a subset, then another figure: not parts */
    r = check("首批收到申报项目51个,其中30个项目被立项,经培育、初评、终评,等27个优秀项目被发文表彰。");
    assert_int_equal(count(r, "MISMATCH"), 0);
    json_decref(r);
    /* the group does not end with its parts */
    r = check("共受理纠纷21件,其中调解结案15件,调解成功8件,调解成功率53.33%。");
    claim_is(r, 1, "21件", "UNVERIFIABLE", NULL);
    claim_is(r, 1, "53.33%", "OK", "53.33");
    json_decref(r);
    /* a rate whose numerator is not named by the rate: a difference is not an error */
    r = check("共调处纠纷100件,调解成功95件,调处成功率90%。");
    claim_is(r, 1, "90%", "UNVERIFIABLE", "95");
    json_decref(r);
    /* another denominator in the sentence gives the written rate */
    r = check("共受理21件,调解结案11件,调解成功8件,成功率为38.10%。");
    claim_is(r, 1, "38.10%", "OK", "38.10");
    json_decref(r);
    /* a rate with no figures, a rate across a semicolon */
    r = check("持证上岗率100%。审结91件;败诉4件,败诉率4.40%。");
    assert_int_equal(count(r, "MISMATCH"), 0);
    json_decref(r);
    /* fewer names than 等 N, a single name, a list without 等 */
    r = check("胜山镇、长河镇等5个镇,张三等5人,受理、办结1件。");
    assert_int_equal(count(r, "MISMATCH"), 0);
    assert_int_equal(count(r, "OK"), 0);
    json_decref(r);
    /* a change without last year's figure, or against something unsaid */
    r = check("行政争议发案量同比下降14.88%,受理量增长20%。");
    assert_int_equal(count(r, "MISMATCH") + count(r, "OK"), 0);
    json_decref(r);
    /* rounded parts: within what their rounding allows */
    r = check("涉及金额共计1.78亿元,其中调解0.9亿元,诉讼0.89亿元。");
    claim_is(r, 1, "1.78亿元", "OK", NULL);
    json_decref(r);
    /* 合计 after commas (not a list) is not a total of the figures before it */
    r = check("共调处矛盾纠纷12033件,调解成功12015件,合计金额5件。");
    assert_int_equal(count(r, "MISMATCH"), 0);
    json_decref(r);
}

/* ---------- positions, limits, invalid text ---------- */

static void test_positions(void **state)
{
    (void)state;
    /* BOM, CRLF, CJK and ASCII characters each count one column */
    const char text[] = "\xEF\xBB\xBF标题\r\nab共12件,其中甲5件、乙7件\r\n\r\n  调解成功率为50%";
    json_t *r = check_len(text, sizeof(text) - 1, 2021);
    json_t *c = claim(r, 2, "12件");
    assert_int_equal(json_integer_value(json_object_get(c, "column")), 4);
    assert_string_equal(str(c, "status"), "OK");
    assert_string_equal(str(c, "quote"), "ab共12件");
    c = claim(r, 2, "7件");
    assert_int_equal(json_integer_value(json_object_get(c, "column")), 15);
    c = claim(r, 4, "50%");
    assert_int_equal(json_integer_value(json_object_get(c, "column")), 9);
    json_decref(r);
    /* columns are those of the text as written, Markdown marks included */
    r = check("## 成效\n调解组织[395](/api/v1/x)个,其中**村级**[375](/y)个、[20](/z)个");
    c = claim(r, 2, "395个");
    assert_int_equal(json_integer_value(json_object_get(c, "column")), 6);
    assert_string_equal(str(c, "status"), "OK");
    assert_int_equal(json_integer_value(json_object_get(claim(r, 2, "20个"), "column")), 43);
    json_decref(r);
    /* empty text */
    r = check_len("", 0, 2021);
    assert_int_equal(json_array_size(json_object_get(r, "claims")), 0);
    json_decref(r);
}

static void expect_error(const char *text, size_t len, int status, const char *code, long line, long column)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    json_t *result = NULL;
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_check(copy, len, NULL, &result, &err), status);
    assert_null(result);
    assert_string_equal(err.code, code);
    if (line > 0) {
        assert_int_equal(json_integer_value(json_object_get(err.details, "line")), line);
        if (column > 0)
            assert_int_equal(json_integer_value(json_object_get(err.details, "column")), column);
    }
    sifa_error_release(&err);
    free(copy);
}

static void test_input_limits(void **state)
{
    (void)state;
#define EXPECT_ERROR(lit, ...) expect_error(lit, sizeof(lit) - 1, __VA_ARGS__)
    EXPECT_ERROR("第一行\n共12件\xff", SIFA_EINVALID, "report_bad_utf8", 2, 5);
    EXPECT_ERROR("共\xe4\xb8件", SIFA_EINVALID, "report_bad_utf8", 1, 2); /* truncated sequence */
    EXPECT_ERROR("\xed\xa0\x80", SIFA_EINVALID, "report_bad_utf8", 1, 1);  /* a surrogate */
    EXPECT_ERROR("\xc0\xaf", SIFA_EINVALID, "report_bad_utf8", 1, 1);      /* overlong */
    EXPECT_ERROR("ab\ncd\0ef", SIFA_EINVALID, "report_nul", 2, 3);
    EXPECT_ERROR("\xf4\x90\x80\x80", SIFA_EINVALID, "report_bad_utf8", 1, 1); /* beyond U+10FFFF */
#undef EXPECT_ERROR
    size_t n = SIFA_CHECK_REPORT_LINE_MAX + 1;
    char *big = malloc(SIFA_CHECK_REPORT_MAX + 2);
    memset(big, 'a', n);
    expect_error(big, n, SIFA_ELIMIT, "report_line_too_long", 1, 0);
    big[n - 1] = '\n'; /* exactly the maximum, then a newline: fine */
    json_t *r = check_len(big, n, 2021);
    json_decref(r);
    for (size_t i = 0; i < SIFA_CHECK_REPORT_MAX + 1; i++)
        big[i] = i % 100 == 99 ? '\n' : 'a';
    expect_error(big, SIFA_CHECK_REPORT_MAX + 1, SIFA_ELIMIT, "report_too_large", 0, 0);
    /* too many figures */
    size_t len = 0;
    for (size_t i = 0; i <= SIFA_CHECK_REPORT_CLAIMS_MAX; i++) {
        memcpy(big + len, "1件,", 5);
        len += 5;
        if (i % 1000 == 999)
            big[len++] = '\n';
    }
    expect_error(big, len, SIFA_ELIMIT, "report_too_many_claims", 0, 0);
    free(big);
}

static void test_year(void **state)
{
    (void)state;
    const char *t1 = "关于2021年度法治政府建设工作情况的报告\n2022年";
    assert_int_equal(sifa_report_check_year(t1, strlen(t1)), 2021);
    const char *t2 = "\n  \n# 2019年工作总结";
    assert_int_equal(sifa_report_check_year(t2, strlen(t2)), 2019);
    /* the real 2021 report: its title page became "|"; its opening says the year */
    const char *t3 = "|\n市委、市政府:\n2021年是贯彻落实《法治政府建设实施纲要(2021-2025年)》开局之年";
    assert_int_equal(sifa_report_check_year(t3, strlen(t3)), 2021);
    /* the title's year wins over the opening's; the end of a range is not the report's year */
    const char *t6 = "法治政府建设年度报告(2020年度)\n2021年以来";
    assert_int_equal(sifa_report_check_year(t6, strlen(t6)), 2020);
    const char *t7 = "报告\n《规划(2021-2025年)》与《纲要(2021至2025年)》";
    assert_int_equal(sifa_report_check_year(t7, strlen(t7)), 0);
    const char *t8 = "报告\n1999年以来";
    assert_int_equal(sifa_report_check_year(t8, strlen(t8)), 0); /* 2000–2100 */
    /* only the opening: a year in the body, 600 characters in, says nothing of the report's */
    char far[2048];
    size_t o = (size_t)snprintf(far, sizeof(far), "报告\n");
    for (int k = 0; k < 600; k++)
        far[o++] = 'x';
    o += (size_t)snprintf(far + o, sizeof(far) - o, "2021年");
    assert_int_equal(sifa_report_check_year(far, o), 0);
    memmove(far + 7 + 500, far + 7 + 600, o - 7 - 600); /* 500 characters in: still the opening */
    assert_int_equal(sifa_report_check_year(far, o - 100), 2021);
    const char *t4 = "编号12021年";
    assert_int_equal(sifa_report_check_year(t4, strlen(t4)), 0);
    const char *t5 = "3021年";
    assert_int_equal(sifa_report_check_year(t5, strlen(t5)), 0);
    assert_int_equal(sifa_report_check_year("", 0), 0);
    /* no year anywhere: last year, and the answer says so */
    json_t *r = check_len("共12件", 8, 0);
    assert_true(json_integer_value(json_object_get(r, "year")) >= 2025);
    assert_string_equal(str(r, "year_source"), "default");
    char *text = sifa_report_check_to_text(r);
    assert_non_null(strstr(text, "按上一年核对"));
    free(text);
    json_decref(r);
    r = check_file("cixi-2021.txt", 0);
    assert_int_equal(json_integer_value(json_object_get(r, "year")), 2021);
    assert_string_equal(str(r, "year_source"), "text");
    json_decref(r);
    r = check_file("cixi-2021.txt", 2020);
    assert_int_equal(json_integer_value(json_object_get(r, "year")), 2020);
    assert_string_equal(str(r, "year_source"), "given");
    json_decref(r);
}

static void test_text_rendering(void **state)
{
    (void)state;
    json_t *r = check_file("cixi-2021.txt", 2021);
    char *s = sifa_report_check_to_text(r);
    assert_non_null(strstr(s, "7:449\tMISMATCH\t72.72%\t「调解成功率为72.72%」\t应为 72.73"));
    assert_non_null(strstr(s, "6:211\tOK\t634件"));
    assert_non_null(strstr(s, "2021 年:共 79 处数字,OK 5,MISMATCH 1,UNVERIFIABLE 73"));
    assert_non_null(strstr(s, "未连接数据库"));
    free(s);
    json_decref(r);
}

/* ---------- DOCX ---------- */

static char *make_docx(const char *xml, size_t *ret_len)
{
    char path[] = "/tmp/test_check_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    if (xml != NULL) {
        zip_source_t *src = zip_source_buffer(z, xml, strlen(xml), 0);
        assert_true(zip_file_add(z, "word/document.xml", src, ZIP_FL_OVERWRITE) >= 0);
    } else {
        zip_source_t *src = zip_source_buffer(z, "x", 1, 0);
        assert_true(zip_file_add(z, "other.txt", src, ZIP_FL_OVERWRITE) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    char *data = read_file(path, ret_len);
    unlink(path);
    return data;
}

static void test_docx(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\"?><w:document xmlns:w=\"w\"><w:body>"
                      "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"1\"/></w:tabs></w:pPr>"
                      "<w:r><w:t>共清理规范性文件634件,其中保留361件,</w:t></w:r>"
                      "<w:r><w:t xml:space=\"preserve\">废止、修改273件。 &amp; &#x4E00;&#20108;</w:t></w:r>"
                      "<w:r><w:tab/><w:t>调解结案11件,调解成功8件,调解成功率为72.72%</w:t></w:r></w:p>"
                      "<w:p/><w:p><w:r><w:delText>删除的9件</w:delText><w:t>&lt;二&gt;</w:t><w:br/>"
                      "<w:t>末行</w:t></w:r></w:p></w:body></w:document>";
    size_t len;
    char *docx = make_docx(xml, &len);
    assert_true(sifa_report_is_docx(docx, len));
    char *text = NULL;
    size_t tlen = 0;
    struct sifa_error err = {0};
    assert_int_equal(sifa_report_docx_text(docx, len, &text, &tlen, &err), 0);
    assert_string_equal(text, "共清理规范性文件634件,其中保留361件,废止、修改273件。 & 一二\t调解结案11件,调解成功8件,"
                              "调解成功率为72.72%\n\n<二>\n末行\n");
    assert_int_equal(tlen, strlen(text));
    json_t *r = check_len(text, tlen, 2021);
    claim_is(r, 1, "634件", "OK", "634");
    claim_is(r, 1, "72.72%", "MISMATCH", "72.73");
    json_decref(r);
    free(text);
    free(docx);
    /* a ZIP without a document, and a broken one */
    docx = make_docx(NULL, &len);
    assert_int_equal(sifa_report_docx_text(docx, len, &text, &tlen, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "docx_invalid");
    sifa_error_release(&err);
    free(docx);
    assert_int_equal(sifa_report_docx_text("PK\x03\x04garbage", 11, &text, &tlen, &err), SIFA_EINVALID);
    assert_string_equal(err.code, "docx_invalid");
    sifa_error_release(&err);
    assert_false(sifa_report_is_docx("PK", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_text_only),
        cmocka_unit_test(test_planted_errors),
        cmocka_unit_test(test_correct_phrasings),
        cmocka_unit_test(test_number_parsing),
        cmocka_unit_test(test_rounding_half_up),
        cmocka_unit_test(test_conservative),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_input_limits),
        cmocka_unit_test(test_year),
        cmocka_unit_test(test_text_rendering),
        cmocka_unit_test(test_docx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
