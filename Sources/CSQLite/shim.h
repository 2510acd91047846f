#ifndef BACKSTREAM_CSQLITE_SHIM_H
#define BACKSTREAM_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import; binding with it makes SQLite copy the bytes.
static inline sqlite3_destructor_type backstream_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// sqlite3_db_config is variadic, which Swift cannot call: one wrapper for the on/off options.
static inline int backstream_sqlite_db_config_flag(sqlite3 *db, int op, int on) {
    return sqlite3_db_config(db, op, on, (int *)0);
}
#endif
