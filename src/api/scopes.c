/* scopes.c — per-module read scopes for the reads that span modules (deadlines, file downloads):
 * the record engine asks for each module's scope as it reaches it (struct sifa_record_ctx
 * module_scope), and gets the caller's `<module>.read` scope or "leave this module out".
 * Layer: api. The scopes are built on demand and live until released with the request's read. */
#include <stdio.h>

#include "base/common.h"
#include "api/api.h"

int sifa_api_read_scope_of(void *arg, const struct sifa_module *m, const struct sifa_record_scope **ret_scope)
{
    struct sifa_api_read_scopes *rs = arg;
    char perm[SIFA_MODEL_CODE_MAX + 16];
    snprintf(perm, sizeof(perm), "%s.read", m->code);
    if (rs->principal == NULL || !sifa_principal_can(rs->principal, perm))
        return 1;
    rs->scopes = sifa_xrealloc(rs->scopes, (rs->n + 1) * sizeof(*rs->scopes));
    sifa_api_scope_build(rs->principal, perm, &rs->scopes[rs->n]);
    /* The engine uses each module's scope before asking for the next, so the array may move. */
    *ret_scope = &rs->scopes[rs->n].scope;
    rs->n++;
    return 0;
}

void sifa_api_read_scopes_release(struct sifa_api_read_scopes *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        sifa_api_scope_release(&rs->scopes[i]);
    free(rs->scopes);
    rs->scopes = NULL;
    rs->n = 0;
}
