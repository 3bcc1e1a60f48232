/* satoken: which process a pid names, by its start time.
 *
 * A pid is recycled; a pid and the start time the kernel gives in
 * /proc/PID/stat (field 22, clock ticks after boot) are not, within a
 * boot.  Tokens bound to a process (token mint --bind-pid) keep both. */
#ifndef SATOKEN_PIDSTART_H
#define SATOKEN_PIDSTART_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The start time in the n bytes of a /proc/PID/stat text (untrusted:
 * field 2 is the process's own name, and may hold spaces and ')').
 * 0, or SAT_E_MALFORMED. */
int pidstart_parse(const char *text, size_t n, uint64_t *ret_start);

/* The start time and real uid of process pid.  0, SAT_E_NOTFOUND when
 * there is no such process, SAT_E_IO / SAT_E_MALFORMED otherwise. */
int pidstart_read(uint32_t pid, uint64_t *ret_start, uid_t *ret_uid);

/* 1 when pid names the process that started at start, 0 when it is
 * gone or another process has its pid now, or a negative SAT_E_* when
 * /proc cannot tell (the caller decides; nothing is revoked on it). */
int pidstart_same(uint32_t pid, uint64_t start);

#endif
