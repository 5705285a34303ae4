/* authz: who a request acts as and whether it may. Public routes pass;
 * others need a bearer token or a session cookie (whose writes must echo
 * the session's CSRF token in X-CSRF-Token), a token scope that allows
 * the method, and a role at least the route's rule (auth/policy.c).
 * Successful writes are recorded in the organisation's audit log. */
#ifndef BRISK_AUTHZ_H
#define BRISK_AUTHZ_H

#include <stdbool.h>

#include "auth/audit.h"
#include "http/server.h"

/* True: run the handler (r->org and r->who set). False: r holds the
 * refusal, or r->defer is set (the store must be asked: run again on a
 * worker). */
bool authz_request(http_server_t *srv, http_req_t *r);
/* After the handler: the audit entry of a successful write (none when the
 * handler set r->audited). */
void authz_after(http_server_t *srv, http_req_t *r);
/* The audit entry of write r, for a handler that writes it in its own
 * transaction (then sets r->audited); target (512 bytes) holds the method
 * and path. Strings are r's and target's. */
void authz_audit_entry(const http_req_t *r, audit_entry *e, char target[512]);

#endif
