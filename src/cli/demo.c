/* demo.c — `sifa demo`: builds the demo county (慈溪市, 2021) in a database by running
 * scripts/demo_county.py with this binary and the current settings. Layer: cli.
 * The generator is Python (it only writes JSON lines of records); every record still goes in
 * through this binary's `sifa import`, so the figures come from the record engine. posix_spawn
 * runs it; nothing is passed through a shell. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/common.h"
#include "cli/cli.h"
#include "cli/config.h"

extern char **environ;

static const char demo_usage[] =
    "用法 usage: sifa demo [--year 2021] [--db FILE] [--key_file FILE] [--scripts_dir DIR] [settings…]\n\n"
    "建立演示县(慈溪市 2021 年):机构、演示用户和全部记录,由记录算出年度报告的每个数字。\n"
    "Builds the demo county: org units, demo users (the printed password is for the demo only) and the\n"
    "records from which every figure of the 2021 annual report follows. A new database is created; an\n"
    "existing one gets the org units and records added. Needs python3 and scripts/demo_county.py.\n\n";

int sifa_cli_demo(int argc, char **argv)
{
    const char *scripts = "scripts", *year = "2021";
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 62; i++) {
        if (strcmp(argv[i], "--scripts_dir") == 0 && i + 1 < argc) {
            scripts = argv[++i];
        } else if (strcmp(argv[i], "--year") == 0 && i + 1 < argc) {
            year = argv[++i];
        } else {
            rest[nrest++] = argv[i];
            if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--help") != 0 && i + 1 < argc)
                rest[nrest++] = argv[++i];
        }
    }
    struct sifa_config cfg;
    int status = 1;
    if (sifa_cli_load_config(nrest, rest, demo_usage, &cfg, &status) < 0) {
        sifa_config_release(&cfg);
        return status;
    }
    if (strcmp(year, "2021") != 0) {
        fprintf(stderr, "sifa: 演示县只有 2021 年的数据 (the demo county is 2021's) [usage]\n");
        sifa_config_release(&cfg);
        return 2;
    }
    char self[4096], script[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "sifa: 找不到 sifa 程序自身的路径 (/proc/self/exe) [demo_failed]\n");
        sifa_config_release(&cfg);
        return 1;
    }
    self[n] = '\0';
    snprintf(script, sizeof(script), "%s/demo_county.py", scripts);
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "sifa: 找不到演示县脚本 %s (--scripts_dir) [demo_missing]\n", script);
        sifa_config_release(&cfg);
        return 1;
    }
    char *args[] = {"python3", script, "--sifa", self, "--db", (char *)cfg.database, "--key_file",
                    (char *)cfg.key_file, "--", "--modules_dir", (char *)cfg.modules_dir, "--indicators_dir",
                    (char *)cfg.indicators_dir, "--holidays_dir", (char *)cfg.holidays_dir, "--roles_file",
                    (char *)cfg.roles_file, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "python3", NULL, NULL, args, environ);
    if (rc != 0) {
        fprintf(stderr, "sifa: 无法运行 python3:%s [demo_failed]\n", strerror(rc));
        sifa_config_release(&cfg);
        return 1;
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    sifa_config_release(&cfg);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "sifa: 演示县未建成 (demo county not built) [demo_failed]\n");
        return 1;
    }
    return 0;
}
