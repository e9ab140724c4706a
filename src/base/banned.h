/* banned.h — functions sifa must not call, turned into compile errors.
 * Layer: base. Included last by every translation unit through base/common.h.
 * strcpy/strcat/sprintf overflow silently, strtok keeps hidden state across threads, atoi has
 * no error reporting: use snprintf, memcpy with a known length, strtok_r and strtol/strtoll. */
#ifndef SIFA_BANNED_H
#define SIFA_BANNED_H

#define SIFA_BANNED(func) sorry_##func##_is_banned_in_sifa

#undef strcpy
#define strcpy(x, y) SIFA_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SIFA_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SIFA_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SIFA_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SIFA_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SIFA_BANNED(strtok)
#undef atoi
#define atoi(x) SIFA_BANNED(atoi)
#undef atol
#define atol(x) SIFA_BANNED(atol)
#undef gets
#define gets(x) SIFA_BANNED(gets)

#endif
