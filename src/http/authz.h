/* authz: who a request acts as and whether it may. Public routes pass;
 * others need a bearer token or a session cookie (whose writes must echo
 * the session's CSRF token in X-CSRF-Token), a token scope that allows
 * the method, and a role at least the route's rule (auth/policy.c).
 * Writes are recorded in the organisation's audit log: with the first
 * change they commit, or after the handler when they succeed without one. */
#ifndef BRISK_AUTHZ_H
#define BRISK_AUTHZ_H

#include <stdbool.h>

#include "auth/audit.h"
#include "http/server.h"

/* True: run the handler (r->org and r->who set). False: r holds the
 * refusal, or r->defer is set (the store must be asked: run again on a
 * worker). */
bool authz_request(http_server_t *srv, http_req_t *r);
/* A write's audit entry, carried into the first transaction the handler
 * commits on this thread (store_thread_on_commit), so the entry and the
 * change commit together and the entry never waits for the writer on its
 * own. c must live until authz_after. */
typedef struct {
	http_req_t *r;
	audit_entry e;
	char target[512];
} authz_carry;
void authz_before(http_req_t *r, authz_carry *c);
/* After the handler (always, after authz_before): disarms the carry; a
 * successful write whose entry did not go with a commit gets it now
 * (none when the handler set r->audited). */
void authz_after(http_server_t *srv, http_req_t *r);
/* The audit entry of write r, for a handler that writes it in its own
 * transaction (then sets r->audited); target (512 bytes) holds the method
 * and path. Strings are r's and target's. */
void authz_audit_entry(const http_req_t *r, audit_entry *e, char target[512]);

#endif
