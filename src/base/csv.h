/* csv.h — one CSV field as spreadsheets and programs read it back: RFC 4180 quoting (a field
 * holding , " CR or LF is quoted and its quotes doubled) and defusing of text a spreadsheet would
 * run as a formula (OWASP "CSV injection": a field starting with = + - @ TAB or CR that is not a
 * plain number gets a leading '). Layer: base. Every CSV sifa writes (statistics tables, list
 * exports, the audit log) goes through here, so they agree on what is quoted and defused. No
 * library in DESIGN.md's set writes CSV, and these rules are all a writer needs. */
#ifndef SIFA_CSV_H
#define SIFA_CSV_H

#include "base/common.h"
#include "base/text.h"

/* A plain number as a spreadsheet reads one: [+-]digits[.digits][e[+-]digits], or .digits. */
bool sifa_csv_is_plain_number(const char *s);
/* Appends s (NUL-terminated, not NULL) to b as one field, quoted and defused as needed; no
 * separator. */
void sifa_csv_field(struct sifa_strbuf *b, const char *s);

#endif
