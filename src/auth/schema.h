/* schema.h — migrations of the auth layer (org units, users, sessions, tokens, audit log).
 * Layer: auth. Apply after sifa_db_core_migrations. */
#ifndef SIFA_AUTH_SCHEMA_H
#define SIFA_AUTH_SCHEMA_H

#include "db/db.h"

extern const struct sifa_db_migration sifa_auth_migrations[];
extern const size_t sifa_auth_migrations_count;

#endif
