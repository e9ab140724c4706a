/* common_passwords.c — the passwords people pick most often that are still long enough to pass
 * the length rule (10 characters or more): digit runs, keyboard walks, "password"/"admin" with
 * digits, and the Chinese favourites (拼音 words and surnames with digits, 520/1314 love
 * numbers). Layer: auth. Written from general knowledge of leaked-password lists, not
 * downloaded. Invariant (checked by test_auth_crypto): every entry is lowercase ASCII, at least
 * 10 bytes, and the array is sorted by strcmp with no duplicates, so lookup is a binary search
 * on the lowercased candidate. Immutable data: thread-safe. */
#include <sodium.h>
#include <string.h>

#include "auth/password.h"

#include "base/common.h"

static const char *const common_passwords[] = {
    "0000000000", "00000000000", "0123456789", "0987654321", "1111111111", "11111111111",
    "111111111111", "1122334455", "11223344556677", "1212121212", "1231231231", "1234512345",
    "1234554321", "12345678!@", "123456789!", "123456789.", "1234567890", "1234567890!",
    "1234567890-", "12345678900", "123456789012", "1234567890a", "1234567890q", "1234567890qwe",
    "1234567891", "12345678910", "123456789a", "123456789aa", "123456789abc", "123456789q",
    "123456789qwe", "123456789z", "123456abcd", "123456abcdef", "123456asdfgh", "123456qwerty",
    "12345abcde", "12345qwert", "1234abcd1234", "1234qwer!@#$", "1234qwerasdf", "1234qwerasdfzxcv",
    "123abc456def", "123qwe!@#qwe", "123qweasd!@#", "123qweasdzxc", "1314520520", "1314521521",
    "1314woaini", "1357924680", "1472583690", "1472583690a", "147258369a", "147258369q",
    "1478963250", "159357258456", "1593574560", "159753456852", "1loveyou123", "1q2w3e4r5t",
    "1q2w3e4r5t6y", "1q2w3e4r5t6y7", "1q2w3e4r5t6y7u", "1q2w3e4r5t6y7u8i9o0p", "1qaz!qaz2wsx",
    "1qaz1qaz1qaz", "1qaz2wsx3e", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "1qaz@wsx3edc",
    "1qazxsw23edc", "2222222222", "2wsx3edc4rfv", "3333333333", "3692581470", "3edc4rfv5tgb",
    "4444444444", "5201314520", "52013145201314", "5201314521", "5201314abc", "5211314521",
    "5555555555", "6666666666", "66666666666", "741852963a", "7777777777", "7894561230",
    "8888888888", "88888888888", "9638527410", "9876543210", "9999999999", "a11111111111",
    "a123456789", "a123456789!", "a1234567890", "a12345678910", "a147258369", "a1b2c3d4e5",
    "a1b2c3d4e5f6", "aa11223344", "aa12345678", "aa123456789", "aa123456789!", "aaa111222333",
    "aaa123456789", "aaaaaaaaaa", "ab12345678", "abc1234567", "abc12345678", "abc123456789",
    "abc5201314", "abcd123456", "abcd1234567", "abcdefg123", "abcdefgh12", "admin12345",
    "admin123456", "admin123456789", "admin@12345", "admin@123456", "adminadmin", "administrator",
    "administrator1", "administrator123", "aiai520520", "aini1314520", "aini5201314", "alibaba123",
    "arsenal123", "asd1234567", "asd123456789", "asdf123456", "asdf12345678", "asdfasdfasdf",
    "asdfghjkl1", "asdfghjkl123", "asdfghjkl;", "baidu123456", "baobao123456", "baobei123456",
    "baseball123", "beijing123", "beijing2008", "cai12345678", "cai123456789", "cai1234567890",
    "cai5201314", "cao12345678", "cao123456789", "cao1234567890", "cao5201314", "changeme123",
    "chelsea123", "chen123456", "chen12345678", "chen123456789", "chen1234567890", "chen5201314",
    "chen666666", "chen888888", "cheng123456", "cheng12345678", "cheng123456789", "cheng1234567890",
    "cheng5201314", "cheng666666", "cheng888888", "chengdu123", "china12345", "china123456",
    "computer123", "default123", "deng123456", "deng12345678", "deng123456789", "deng1234567890",
    "deng5201314", "deng666666", "deng888888", "ding123456", "ding12345678", "ding123456789",
    "ding1234567890", "ding5201314", "ding666666", "ding888888", "dong123456", "dong12345678",
    "dong123456789", "dong1234567890", "dong5201314", "dong666666", "dong888888", "dragon123456",
    "du12345678", "du123456789", "du1234567890", "feng123456", "feng12345678", "feng123456789",
    "feng1234567890", "feng5201314", "feng666666", "feng888888", "football123", "gao12345678",
    "gao123456789", "gao1234567890", "gao5201314", "gongzuo123", "gov123456789", "guangzhou123",
    "guo12345678", "guo123456789", "guo1234567890", "guo5201314", "han12345678", "han123456789",
    "han1234567890", "han5201314", "hangzhou123", "he12345678", "he123456789", "he1234567890",
    "hu12345678", "hu123456789", "hu1234567890", "huang123456", "huang12345678", "huang123456789",
    "huang1234567890", "huang5201314", "huang666666", "huang888888", "huawei123456", "ilovechina",
    "iloveyou12", "iloveyou123", "iloveyou1234", "iloveyou1314", "iloveyou520", "iloveyou5201314",
    "internet123", "jennifer123", "jiang123456", "jiang12345678", "jiang123456789",
    "jiang1234567890", "jiang5201314", "jiang666666", "jiang888888", "laogong520", "laopo520520",
    "letmein123", "li12345678", "li123456789", "li1234567890", "liang123456", "liang12345678",
    "liang123456789", "liang1234567890", "liang5201314", "liang666666", "liang888888",
    "lin12345678", "lin123456789", "lin1234567890", "lin5201314", "liu12345678", "liu123456789",
    "liu1234567890", "liu5201314", "liverpool1", "loveyou1314", "lu12345678", "lu123456789",
    "lu1234567890", "luo12345678", "luo123456789", "luo1234567890", "luo5201314", "ma12345678",
    "ma123456789", "ma1234567890", "master123456", "michael123", "mima123456", "mima12345678",
    "mimamima123", "monkey123456", "nihao123456", "nihaoma123", "p@ssw0rd123", "p@ssword123",
    "pan12345678", "pan123456789", "pan1234567890", "pan5201314", "passw0rd123", "password1!",
    "password12", "password123", "password1234", "password123456", "password@123",
    "passwordpassword", "peng123456", "peng12345678", "peng123456789", "peng1234567890",
    "peng5201314", "peng666666", "peng888888", "pokemon123", "princess123", "q1w2e3r4t5",
    "q1w2e3r4t5y6", "qazwsxedc123", "qazwsxedcrfv", "qq123456789", "qq1234567890", "qwe1234567",
    "qwe123456789", "qweasdzxc1", "qweasdzxc123", "qweqweqwe123", "qwer1234!@#$", "qwer123456",
    "qwer12345678", "qwerasdf1234", "qwerasdfzxcv", "qwerqwerqwer", "qwerty1234", "qwerty12345",
    "qwerty123456", "qwertyuiop", "qwertyuiop123", "ren12345678", "ren123456789", "ren1234567890",
    "ren5201314", "root123456", "root@123456", "rootroot123", "sfj123456789", "shadow123456",
    "shanghai123", "shen123456", "shen12345678", "shen123456789", "shen1234567890", "shen5201314",
    "shen666666", "shen888888", "shenzhen123", "sifa123456", "sifaju123456", "song123456",
    "song12345678", "song123456789", "song1234567890", "song5201314", "song666666", "song888888",
    "starwars123", "su12345678", "su123456789", "su1234567890", "sun12345678", "sun123456789",
    "sun1234567890", "sun5201314", "sunshine123", "superman123", "tang123456", "tang12345678",
    "tang123456789", "tang1234567890", "tang5201314", "tang666666", "tang888888", "taobao123456",
    "tencent123", "test123456", "test12345678", "testtest123", "tian123456", "tian12345678",
    "tian123456789", "tian1234567890", "tian5201314", "tian666666", "tian888888", "trustno1234",
    "wang123456", "wang12345678", "wang123456789", "wang1234567890", "wang5201314", "wang666666",
    "wang888888", "wechat123456", "wei12345678", "wei123456789", "wei1234567890", "wei5201314",
    "weixin123456", "welcome123", "welcome1234", "welcome@123", "whatever123", "woaibaba123",
    "woaimama123", "woaini123456", "woaini1314", "woaini1314520", "woainilaogong", "woainilaopo",
    "woaiwojia123", "woaiwoziji", "woaizhongguo", "wodemima123", "woshishui123", "wu12345678",
    "wu123456789", "wu1234567890", "xiao123456", "xiao12345678", "xiao123456789", "xiao1234567890",
    "xiao5201314", "xiao666666", "xiao888888", "xiaobao123", "xiaomi123456", "xie12345678",
    "xie123456789", "xie1234567890", "xie5201314", "xu12345678", "xu123456789", "xu1234567890",
    "yang123456", "yang12345678", "yang123456789", "yang1234567890", "yang5201314", "yang666666",
    "yang888888", "yao12345678", "yao123456789", "yao1234567890", "yao5201314", "ye12345678",
    "ye123456789", "ye1234567890", "yu12345678", "yu123456789", "yu1234567890", "yuan123456",
    "yuan12345678", "yuan123456789", "yuan1234567890", "yuan5201314", "yuan666666", "yuan888888",
    "zaq12wsxcde3", "zeng123456", "zeng12345678", "zeng123456789", "zeng1234567890", "zeng5201314",
    "zeng666666", "zeng888888", "zhang123456", "zhang12345678", "zhang123456789", "zhang1234567890",
    "zhang5201314", "zhang666666", "zhang888888", "zhao123456", "zhao12345678", "zhao123456789",
    "zhao1234567890", "zhao5201314", "zhao666666", "zhao888888", "zheng123456", "zheng12345678",
    "zheng123456789", "zheng1234567890", "zheng5201314", "zheng666666", "zheng888888",
    "zhengfu123456", "zhongguo123", "zhongguo1949", "zhou123456", "zhou12345678", "zhou123456789",
    "zhou1234567890", "zhou5201314", "zhou666666", "zhou888888", "zhu12345678", "zhu123456789",
    "zhu1234567890", "zhu5201314", "zxc1234567", "zxc123456789", "zxcv123456", "zxcv12345678",
    "zxcvbnm123", "zxcvbnm1234", "zxcvbnm123456", "zxcvbnmasdf",
};

const char *const *sifa_password_common_list(size_t *ret_count)
{
    *ret_count = SIFA_ARRAY_SIZE(common_passwords);
    return common_passwords;
}

static int compare_entry(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *)entry);
}

bool sifa_password_is_common(const char *password)
{
    char lower[SIFA_PASSWORD_MAX_BYTES + 1];
    size_t len = strnlen(password, sizeof(lower));
    if (len >= sizeof(lower))
        return false; /* longer than any entry */
    for (size_t i = 0; i < len; i++)
        lower[i] = (password[i] >= 'A' && password[i] <= 'Z') ? (char)(password[i] - 'A' + 'a') : password[i];
    lower[len] = '\0';
    bool found = bsearch(lower, common_passwords, SIFA_ARRAY_SIZE(common_passwords), sizeof(common_passwords[0]),
                         compare_entry) != NULL;
    sodium_memzero(lower, sizeof(lower));
    return found;
}
