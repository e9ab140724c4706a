/* main.c — the sifa binary: dispatches subcommands to the CLI layer. */
#include "base/common.h"
#include "cli/cli.h"
#include "cli/config.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"serve", sifa_cli_serve, "启动 HTTP 服务 (serve the API and the web front end)"},
    {"init", sifa_cli_init, "创建数据库 (create the database and its schema)"},
    {"backup", sifa_cli_backup, "在线备份数据库 (online backup to a file)"},
    {"deadlines", sifa_cli_deadlines, "列出将到期和已超期的期限 (deadlines due soon and overdue)"},
    {"import", sifa_cli_import, "导入记录 (import records of a module from JSON lines)"},
    {"user", sifa_cli_user, "管理用户 user add|passwd|disable|enable|roles|list"},
    {"org", sifa_cli_org, "管理机构 org add|move|rename|division|list|import"},
    {"token", sifa_cli_token, "程序访问令牌 token create|revoke|list"},
    {"audit", sifa_cli_audit, "审计日志 audit verify|export"},
    {"key", sifa_cli_key, "密钥 key rotate|reencrypt|retire|list"},
    {"demo", sifa_cli_demo, "建立演示县 (build the demo county 慈溪市 2021 from records)"},
    {"report", sifa_cli_report, "生成报告 report annual --year 2021 --format html|md|docx|pdf"},
    {"check-report", sifa_cli_check_report, "核查报告中的数字 check-report FILE [--year Y]"},
    {"stats", sifa_cli_stats, "指标统计 stats show|table|verify|rebuild"},
    {"modules", sifa_cli_modules, "检查业务定义 modules check [DIR] (validate definitions)"},
};

static void usage(FILE *f)
{
    fprintf(f, "sifa — 司法行政业务平台 (county Justice Bureau platform)\n\n"
               "用法 usage: sifa <command> [options]    sifa <command> --help\n\n命令 commands:\n");
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n配置项 settings (file keys, SIFA_<KEY> environment variables, --key flags):\n%s",
            sifa_config_help());
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("sifa 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < SIFA_ARRAY_SIZE(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "sifa: 未知命令 \"%s\" [usage]\n\n", argv[1]);
    usage(stderr);
    return 2;
}
