// A VFS over SQLite's own ("unix") that can gather a transaction's WAL writes into one.
//
// SQLite writes each WAL frame with two pwrite calls, its 24-byte header and then its page, so
// a message stored (17 frames) cost 34 system calls, about 2.3 us each on this kind of machine,
// where one pwrite of the same 70 KB takes about 8 us. While a connection coalesces (see
// mailroom_wal_coalesce), writes to its WAL that continue the previous one are held in memory
// and written (in pieces of at most 120 KB) when SQLite next does anything else with the file:
// syncs it (every commit that syncs: the bytes are in the file before the fsync, as before),
// reads, truncates or sizes it, closes it, or writes somewhere else in it.
//
// Why only transactions that sync: SQLite makes a commit's frames visible to other connections
// (the WAL index header) after its writes, and, when it syncs, after the sync; without a sync
// nothing would tell this VFS to write before other connections could read the frames. A
// transaction that commits with synchronous = FULL always syncs the WAL before it publishes,
// so its frames are always in the file (and on disk) before anyone can read them.
// Every other file, and every WAL while not coalescing, goes straight to the unix VFS.

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef struct WALFile {
    sqlite3_file base;
    sqlite3_file *real;  // the unix VFS's file, in the memory after this struct
    int isWAL;
    int coalescing;
    unsigned char *held;  // bytes written but not yet passed on, for file offset heldAt
    sqlite3_int64 heldAt;
    int heldLength;
    int heldCapacity;
} WALFile;

// A write larger than this, or one that would make the held bytes larger, is not held.
enum { maxHeld = 1 << 20 };
// The most the unix VFS writes in one call: it writes (length & 0x1ffff) bytes and takes a
// write of 0 bytes for a full disk, so 131,072 bytes or more must go in pieces. 30 pages and
// their frame headers: a message received is about 17.
enum { maxWrite = 30 * 4096 };

static sqlite3_vfs *unixVFS;

static int flush(WALFile *f) {
    int rc = SQLITE_OK;
    for (int done = 0; done < f->heldLength && rc == SQLITE_OK; done += maxWrite) {
        int length = f->heldLength - done < maxWrite ? f->heldLength - done : maxWrite;
        rc = f->real->pMethods->xWrite(f->real, f->held + done, length, f->heldAt + done);
    }
    f->heldLength = 0;
    return rc;
}

static int walClose(sqlite3_file *file) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    int closed = f->real->pMethods->xClose(f->real);
    free(f->held);
    f->held = NULL;
    f->heldCapacity = 0;
    return rc != SQLITE_OK ? rc : closed;
}

static int walRead(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

static int walWrite(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    WALFile *f = (WALFile *)file;
    if (f->coalescing && amount < maxHeld) {
        int continues = f->heldLength > 0 && offset == f->heldAt + f->heldLength;
        if (!continues || f->heldLength + amount > maxHeld) {
            int rc = flush(f);
            if (rc != SQLITE_OK) return rc;
            f->heldAt = offset;
        }
        int needed = f->heldLength + amount;
        if (needed > f->heldCapacity) {
            int capacity = f->heldCapacity ? f->heldCapacity : 128 * 1024;
            while (capacity < needed) capacity *= 2;
            unsigned char *grown = realloc(f->held, (size_t)capacity);
            if (!grown) return SQLITE_IOERR_NOMEM;
            f->held = grown;
            f->heldCapacity = capacity;
        }
        memcpy(f->held + f->heldLength, buffer, (size_t)amount);
        f->heldLength = needed;
        return SQLITE_OK;
    }
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
}

static int walTruncate(sqlite3_file *file, sqlite3_int64 size) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int walSync(sqlite3_file *file, int flags) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int walFileSize(sqlite3_file *file, sqlite3_int64 *size) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int walLock(sqlite3_file *file, int lock) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xLock(f->real, lock);
}

static int walUnlock(sqlite3_file *file, int lock) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int walCheckReservedLock(sqlite3_file *file, int *out) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int walFileControl(sqlite3_file *file, int op, void *arg) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int walSectorSize(sqlite3_file *file) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int walDeviceCharacteristics(sqlite3_file *file) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int walShmMap(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int walShmLock(sqlite3_file *file, int offset, int n, int flags) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void walShmBarrier(sqlite3_file *file) {
    WALFile *f = (WALFile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int walShmUnmap(sqlite3_file *file, int deleteFlag) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xShmUnmap(f->real, deleteFlag);
}

static int walFetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    WALFile *f = (WALFile *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

static int walUnfetch(sqlite3_file *file, sqlite3_int64 offset, void *page) {
    WALFile *f = (WALFile *)file;
    return f->real->pMethods->xUnfetch(f->real, offset, page);
}

static const sqlite3_io_methods walMethods = {
    3, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, walLock, walUnlock,
    walCheckReservedLock, walFileControl, walSectorSize, walDeviceCharacteristics,
    walShmMap, walShmLock, walShmBarrier, walShmUnmap, walFetch, walUnfetch,
};
// For a file whose unix methods have no shared memory or memory map (the "nolock" kind): SQLite
// asks the version and the methods it has, and must see the same lack here.
static const sqlite3_io_methods walMethodsWithoutShm = {
    1, walClose, walRead, walWrite, walTruncate, walSync, walFileSize, walLock, walUnlock,
    walCheckReservedLock, walFileControl, walSectorSize, walDeviceCharacteristics,
    NULL, NULL, NULL, NULL, NULL, NULL,
};

static int vfsOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    WALFile *f = (WALFile *)file;
    memset(f, 0, sizeof(WALFile));
    f->real = (sqlite3_file *)&f[1];
    int rc = unixVFS->xOpen(unixVFS, name, f->real, flags, outFlags);
    if (rc != SQLITE_OK || f->real->pMethods == NULL) {
        f->base.pMethods = NULL;
        return rc;
    }
    const sqlite3_io_methods *real = f->real->pMethods;
    int full = real->iVersion >= 3 && real->xShmMap && real->xShmLock && real->xShmBarrier && real->xShmUnmap
        && real->xFetch && real->xUnfetch;
    f->isWAL = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = full ? &walMethods : &walMethodsWithoutShm;
    return SQLITE_OK;
}

static int vfsDelete(sqlite3_vfs *v, const char *name, int syncDir) { (void)v; return unixVFS->xDelete(unixVFS, name, syncDir); }
static int vfsAccess(sqlite3_vfs *v, const char *name, int flags, int *out) { (void)v; return unixVFS->xAccess(unixVFS, name, flags, out); }
static int vfsFullPathname(sqlite3_vfs *v, const char *name, int n, char *out) { (void)v; return unixVFS->xFullPathname(unixVFS, name, n, out); }
static void *vfsDlOpen(sqlite3_vfs *v, const char *name) { (void)v; return unixVFS->xDlOpen(unixVFS, name); }
static void vfsDlError(sqlite3_vfs *v, int n, char *out) { (void)v; unixVFS->xDlError(unixVFS, n, out); }
static void (*vfsDlSym(sqlite3_vfs *v, void *lib, const char *symbol))(void) { (void)v; return unixVFS->xDlSym(unixVFS, lib, symbol); }
static void vfsDlClose(sqlite3_vfs *v, void *lib) { (void)v; unixVFS->xDlClose(unixVFS, lib); }
static int vfsRandomness(sqlite3_vfs *v, int n, char *out) { (void)v; return unixVFS->xRandomness(unixVFS, n, out); }
static int vfsSleep(sqlite3_vfs *v, int micros) { (void)v; return unixVFS->xSleep(unixVFS, micros); }
static int vfsCurrentTime(sqlite3_vfs *v, double *out) { (void)v; return unixVFS->xCurrentTime(unixVFS, out); }
static int vfsGetLastError(sqlite3_vfs *v, int n, char *out) { (void)v; return unixVFS->xGetLastError(unixVFS, n, out); }
static int vfsCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) { (void)v; return unixVFS->xCurrentTimeInt64(unixVFS, out); }
static int vfsSetSystemCall(sqlite3_vfs *v, const char *name, sqlite3_syscall_ptr call) { (void)v; return unixVFS->xSetSystemCall(unixVFS, name, call); }
static sqlite3_syscall_ptr vfsGetSystemCall(sqlite3_vfs *v, const char *name) { (void)v; return unixVFS->xGetSystemCall(unixVFS, name); }
static const char *vfsNextSystemCall(sqlite3_vfs *v, const char *name) { (void)v; return unixVFS->xNextSystemCall(unixVFS, name); }

static sqlite3_vfs walVFS;
static int installed = SQLITE_OK;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void install(void) {
    unixVFS = sqlite3_vfs_find("unix");
    if (unixVFS == NULL || unixVFS->iVersion < 3) {
        installed = SQLITE_ERROR;
        return;
    }
    walVFS.iVersion = 3;
    walVFS.szOsFile = (int)sizeof(WALFile) + unixVFS->szOsFile;
    walVFS.mxPathname = unixVFS->mxPathname;
    walVFS.zName = "mailroom-wal";
    walVFS.xOpen = vfsOpen;
    walVFS.xDelete = vfsDelete;
    walVFS.xAccess = vfsAccess;
    walVFS.xFullPathname = vfsFullPathname;
    walVFS.xDlOpen = vfsDlOpen;
    walVFS.xDlError = vfsDlError;
    walVFS.xDlSym = vfsDlSym;
    walVFS.xDlClose = vfsDlClose;
    walVFS.xRandomness = vfsRandomness;
    walVFS.xSleep = vfsSleep;
    walVFS.xCurrentTime = vfsCurrentTime;
    walVFS.xGetLastError = vfsGetLastError;
    walVFS.xCurrentTimeInt64 = vfsCurrentTimeInt64;
    walVFS.xSetSystemCall = vfsSetSystemCall;
    walVFS.xGetSystemCall = vfsGetSystemCall;
    walVFS.xNextSystemCall = vfsNextSystemCall;
    installed = sqlite3_vfs_register(&walVFS, 1);
}

int mailroom_wal_install(void) {
    pthread_once(&once, install);
    return installed;
}

int mailroom_wal_coalesce(void *db, int on) {
    sqlite3_file *file = NULL;
    int rc = sqlite3_file_control((sqlite3 *)db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file);
    if (rc != SQLITE_OK || file == NULL) return SQLITE_OK;
    if (file->pMethods != &walMethods && file->pMethods != &walMethodsWithoutShm) return SQLITE_OK;
    WALFile *f = (WALFile *)file;
    if (!f->isWAL) return SQLITE_OK;
    if (on) {
        f->coalescing = 1;
        return SQLITE_OK;
    }
    f->coalescing = 0;
    return flush(f);
}
