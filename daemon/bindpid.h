/* satokend: tokens that die with a process (token mint --bind-pid).
 *
 * The token record keeps the pid and the process's start time
 * (common/pidstart.h).  While satokend runs it holds a pidfd of each
 * bound process, all in one epoll set the loop watches; when a process
 * exits, its tokens are revoked between batches, each with its audit
 * line (action=token.revoke reason=process_exited principal=satokend).
 * At start, every live bound token whose process is gone, or whose pid
 * now names another process (start time differs), is revoked the same
 * way, and the others are watched again.
 *
 * Who may bind: the caller's socket uid must be the process's real uid,
 * or the caller an admin.  At most BINDPID_MAX processes are watched; a
 * mint past that is QUOTA_EXCEEDED (a token nobody watches would not
 * die with its process).  The pidfds come out of the descriptor limit
 * the connections share (conn_bound does not reserve them): when none
 * is left, pidfd_open fails and the mint is refused, never unwatched. */
#ifndef SATOKEND_BINDPID_H
#define SATOKEND_BINDPID_H

#include <stddef.h>
#include <stdint.h>

#define BINDPID_MAX	1024

struct op_ctx;
struct server;

/* For token.mint: checks that the caller may bind pid and that it runs,
 * and gives its start time.  0, or an error with c->msg set. */
int bindpid_check(struct op_ctx *c, uint64_t pid, uint32_t *ret_pid,
    uint64_t *ret_start);
/* Watches token id's process from now on (after it is staged).  0, or
 * an error with c->msg set: the process already exited (CONFLICT), the
 * watch list is full (QUOTA). */
int bindpid_watch(struct op_ctx *c, const char *id, uint32_t pid,
    uint64_t start);

/* At start: revokes the bound tokens of processes that are gone and
 * watches the others; *ret_unwatched counts those past BINDPID_MAX
 * (checked again at the next start only).  0, or -1 with a message. */
int bindpid_start(struct server *sv, size_t *ret_unwatched, char *err,
    size_t errlen);
/* The epoll fd of the watched pidfds, for the loop; -1 if none. */
int bindpid_fd(void);
/* The loop saw bindpid_fd readable: notes which processes exited. */
void bindpid_read(struct server *sv);
/* Revokes the tokens of exited processes, when no batch holds the
 * store.  0, or the first error (those tokens are tried again). */
int bindpid_step(struct server *sv);
void bindpid_stop(void);

#endif
