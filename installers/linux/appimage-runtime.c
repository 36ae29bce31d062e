/*
 * The start-up program at the front of Openweight's AppImage (an AppImage is this program
 * followed by a SquashFS image of the app). Built by installers/linux/build-appimage.sh from
 * Debian's squashfuse library, so no tool is downloaded from outside the package registries.
 *
 * Unlike the reference AppImage runtime it does not mount the image with FUSE (FUSE is often
 * missing or needs privileges): on first start it unpacks the image into the user's cache
 * (~/.cache/openweight-appimage/<size>-<mtime>/, a few seconds), then starts AppRun from
 * there; later starts go straight to AppRun. Older unpacked versions are removed.
 *
 *   Openweight.AppImage [args...]        run the app (the arguments are passed on)
 *   --appimage-extract                   unpack into ./squashfs-root and stop
 *   --appimage-offset                    print where the image starts
 *
 * AppImage conventions kept: the "AI\2" magic at byte 8 (written by the build), and the
 * APPIMAGE, APPDIR and ARGV0 environment variables for AppRun.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#undef _POSIX_C_SOURCE /* squashfuse's config.h sets its own */
#include "fs.h"
#include "file.h"
#include "traverse.h"

static off_t image_offset(const char *self) {
    /* The image starts where this ELF file ends: after its section header table. */
    Elf64_Ehdr header;
    int fd = open(self, O_RDONLY);
    if (fd < 0 || read(fd, &header, sizeof header) != (ssize_t)sizeof header) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return (off_t)(header.e_shoff + (off_t)header.e_shentsize * header.e_shnum);
}

static int make_parents(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST) { *p = '/'; return -1; }
            *p = '/';
        }
    }
    return 0;
}

static int extract(const char *self, off_t offset, const char *target) {
    sqfs fs;
    int fd = open(self, O_RDONLY);
    if (fd < 0 || sqfs_init(&fs, fd, (size_t)offset) != SQFS_OK) {
        fprintf(stderr, "Openweight: this AppImage is damaged (no image inside it). Download it again.\n");
        return -1;
    }
    if (mkdir(target, 0755) != 0 && errno != EEXIST) { perror(target); return -1; }
    sqfs_traverse trv;
    if (sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) != SQFS_OK) return -1;
    sqfs_err err;
    static char buffer[1 << 20];
    int failed = 0;
    while (!failed && sqfs_traverse_next(&trv, &err)) {
        if (trv.dir_end) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", target, trv.path);
        make_parents(path);
        sqfs_inode inode;
        if (sqfs_inode_get(&fs, &inode, trv.entry.inode) != SQFS_OK) { failed = 1; break; }
        mode_t mode = inode.base.mode & 07777;
        switch (inode.base.inode_type) {
        case SQUASHFS_DIR_TYPE: case SQUASHFS_LDIR_TYPE:
            if (mkdir(path, mode | 0700) != 0 && errno != EEXIST) failed = 1;
            break;
        case SQUASHFS_REG_TYPE: case SQUASHFS_LREG_TYPE: {
            int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode | 0600);
            if (out < 0) { failed = 1; break; }
            sqfs_off_t done = 0, total = (sqfs_off_t)inode.xtra.reg.file_size;
            while (done < total) {
                sqfs_off_t size = total - done < (sqfs_off_t)sizeof buffer ? total - done : (sqfs_off_t)sizeof buffer;
                if (sqfs_read_range(&fs, &inode, done, &size, buffer) != SQFS_OK ||
                    write(out, buffer, (size_t)size) != (ssize_t)size) { failed = 1; break; }
                done += size;
            }
            close(out);
            break;
        }
        case SQUASHFS_SYMLINK_TYPE: case SQUASHFS_LSYMLINK_TYPE: {
            char link[PATH_MAX];
            size_t size = sizeof link;
            if (sqfs_readlink(&fs, &inode, link, &size) != SQFS_OK) { failed = 1; break; }
            unlink(path);
            if (symlink(link, path) != 0) failed = 1;
            break;
        }
        default:
            break; /* devices, fifos, sockets: an app image has none */
        }
        if (failed) fprintf(stderr, "Openweight: could not unpack %s: %s\n", path, strerror(errno));
    }
    sqfs_traverse_close(&trv);
    sqfs_destroy(&fs);
    close(fd);
    return failed || err != SQFS_OK ? -1 : 0;
}

static void remove_tree(const char *path) {
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir(dir))) {
            if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(child);
            else unlink(child);
        }
        closedir(dir);
    }
    rmdir(path);
}

static void remove_other_versions(const char *base, const char *keep) {
    DIR *dir = opendir(base);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.' || !strcmp(entry->d_name, keep)) continue;
        if (strstr(entry->d_name, ".unpacking-")) continue; /* another start is unpacking */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", base, entry->d_name);
        remove_tree(path);
    }
    closedir(dir);
}

int main(int argc, char **argv) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { perror("/proc/self/exe"); return 1; }
    self[n] = '\0';
    off_t offset = image_offset(self);
    if (offset <= 0) { fprintf(stderr, "Openweight: cannot read %s\n", self); return 1; }

    if (argc > 1 && !strcmp(argv[1], "--appimage-offset")) {
        printf("%lld\n", (long long)offset);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--appimage-extract")) {
        return extract(self, offset, "squashfs-root") == 0 ? 0 : 1;
    }

    struct stat st;
    if (stat(self, &st) != 0) { perror(self); return 1; }
    char base[PATH_MAX], key[64], target[PATH_MAX], apprun[PATH_MAX];
    const char *cache = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (cache && *cache) snprintf(base, sizeof base, "%s/openweight-appimage", cache);
    else if (home && *home) snprintf(base, sizeof base, "%s/.cache/openweight-appimage", home);
    else snprintf(base, sizeof base, "/tmp/openweight-appimage-%d", (int)getuid());
    snprintf(key, sizeof key, "%llx-%llx", (long long)st.st_size, (long long)st.st_mtime);
    snprintf(target, sizeof target, "%s/%s", base, key);
    snprintf(apprun, sizeof apprun, "%s/AppRun", target);

    if (access(apprun, X_OK) != 0) {
        char temporary[PATH_MAX + 32];
        snprintf(temporary, sizeof temporary, "%s.unpacking-%d", target, (int)getpid());
        char parents[PATH_MAX + 32];
        snprintf(parents, sizeof parents, "%s/", base);
        make_parents(parents);
        fprintf(stderr, "Openweight: unpacking into %s (first start only)\n", target);
        if (extract(self, offset, temporary) != 0) {
            remove_tree(temporary);
            fprintf(stderr, "Openweight: could not unpack into %s (is the disk full?)\n", base);
            return 1;
        }
        if (rename(temporary, target) != 0) remove_tree(temporary); /* another start won */
        remove_other_versions(base, key);
    }
    setenv("APPIMAGE", self, 1);
    setenv("APPDIR", target, 1);
    setenv("ARGV0", argv[0], 1);
    execv(apprun, argv);
    fprintf(stderr, "Openweight: cannot start %s: %s\n", apprun, strerror(errno));
    return 1;
}
