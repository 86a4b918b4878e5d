#ifndef MAILROOM_WAL_WRITES_H
#define MAILROOM_WAL_WRITES_H

/// Installs the write-coalescing VFS as SQLite's default (once; later calls do nothing).
/// Returns an SQLite result code.
int mailroom_wal_install(void);

/// Starts (`on` != 0) or ends (`on` == 0) coalescing the WAL writes of the connection `db`
/// (an `sqlite3 *`). Ending writes out what is still held. Only for a transaction that syncs
/// its WAL when it commits (`synchronous = FULL`): see WALWrites.c. Returns an SQLite result
/// code; a connection whose WAL is not open, or not opened by this VFS, is left as it is.
int mailroom_wal_coalesce(void *db, int on);

#endif
