// Owner-only files and folders for what Parley keeps on disk: keys, databases (password hashes,
// sealed messages, chat history), sessions, host caches, settings. Folders Parley creates are
// 0700 and files 0600, set with chmod after creation so the umask does not matter; a file that
// an older version left looser is tightened when it is written or opened again.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/**
 * Creates `path` and its missing parents, owner-only. A folder that already existed keeps its
 * mode: it may be the operator's choice (a service's state folder, a shared parent).
 */
export function makePrivateDir(path) {
    const first = mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (first === undefined)
        return;
    for (let dir = path;; dir = dirname(dir)) {
        chmodSync(dir, PRIVATE_DIR_MODE);
        if (dir === first || dirname(dir) === dir)
            break;
    }
}
export function writePrivate(path, text) {
    writeFileSync(path, text, { mode: PRIVATE_FILE_MODE });
    chmodSync(path, PRIVATE_FILE_MODE); // also when the file already existed with looser rights
}
/** The files SQLite keeps beside a database. */
const SQLITE_COMPANIONS = ['-wal', '-shm', '-journal'];
/**
 * Call before SQLite opens the database at `path`: creates it empty and owner-only if missing,
 * and tightens it and its companions if they exist. SQLite creates the -wal, -shm and -journal
 * files with the database file's mode, so they are owner-only from their first byte.
 */
export function preparePrivateDatabase(path) {
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
    chmodSync(path, PRIVATE_FILE_MODE);
    for (const suffix of SQLITE_COMPANIONS)
        if (existsSync(path + suffix))
            chmodSync(path + suffix, PRIVATE_FILE_MODE);
}
//# sourceMappingURL=private-files.js.map