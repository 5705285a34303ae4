/* The rate limiter (buckets, classes, refused tokens, sign-in backoff)
 * and the admission pool (priority, per-org cap and queue bound), and
 * the per-address keys of IPv4 and IPv6 peers. No
 * timing is asserted: buckets are judged right after they are filled,
 * long before a refill could count; the pool's jobs block on gates. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "http/admission.h"
#include "http/peer.h"
#include "http/ratelimit.h"

static void configure(int per_minute, int burst)
{
	ratelimit_config c = {0};
	for (int i = 0; i < RL__CLASSES; i++)
		c.cls[i] = (rl_policy){per_minute, burst};
	c.bad_tokens = (rl_policy){1, 3};
	c.signin_free_failures = 2;
	c.signin_max_backoff_s = 60;
	ratelimit_configure(&c);
	ratelimit_reset();
}

Test(ratelimit, burst_then_refused_with_retry_after)
{
	configure(1, 5); /* one a minute: no refill within the test */
	rl_verdict v;
	for (int i = 0; i < 5; i++) {
		cr_assert(ratelimit_take(42, RL_VIEWS, &v), "request %d", i);
		cr_assert(v.limited);
		cr_assert_eq(v.limit, 5);
		cr_assert_eq(v.remaining, 4 - i);
	}
	cr_assert_not(ratelimit_take(42, RL_VIEWS, &v));
	cr_assert_eq(v.remaining, 0);
	cr_assert_geq(v.retry_after, 1);
	cr_assert_leq(v.retry_after, 60);
	cr_assert_eq(v.window_s, 300);
	/* other classes and other principals have their own buckets */
	cr_assert(ratelimit_take(42, RL_LISTS, &v));
	cr_assert(ratelimit_take(43, RL_VIEWS, &v));
}

Test(ratelimit, zero_rate_is_unlimited)
{
	configure(0, 5);
	rl_verdict v;
	for (int i = 0; i < 100; i++)
		cr_assert(ratelimit_take(7, RL_IMPORTS, &v));
	cr_assert_not(v.limited);
}

Test(ratelimit, classes_of_routes)
{
	cr_assert_eq(ratelimit_class_of("overview", true), RL_VIEWS);
	cr_assert_eq(ratelimit_class_of("import", false), RL_IMPORTS);
	cr_assert_eq(ratelimit_class_of("tasks_submit", false), RL_EXPORTS);
	cr_assert_eq(ratelimit_class_of("list", true), RL_LISTS);
	cr_assert_eq(ratelimit_class_of("some_new_route", true), RL_LISTS);
	cr_assert_eq(ratelimit_class_of("some_new_route", false), RL_WRITES);
}

Test(ratelimit, refused_tokens_per_address)
{
	configure(60, 10);
	int wait;
	uint32_t a = 0x0100007f, b = 0x0200007f;
	for (int i = 0; i < 3; i++) {
		cr_assert_not(ratelimit_bad_token_blocked(a, &wait));
		ratelimit_bad_token_note(a);
	}
	cr_assert(ratelimit_bad_token_blocked(a, &wait));
	cr_assert_geq(wait, 1);
	cr_assert_not(ratelimit_bad_token_blocked(b, &wait));
}

Test(ratelimit, signin_backoff_per_account_and_address)
{
	configure(60, 10);
	int wait;
	uint32_t a = 0x0100007f, b = 0x0200007f;
	/* two free failures, then a wait */
	for (int i = 0; i < 2; i++) {
		cr_assert(ratelimit_signin_allowed(a, "ann", 3, &wait));
		ratelimit_signin_failed(a, "ann", 3);
	}
	cr_assert(ratelimit_signin_allowed(a, "ann", 3, &wait));
	ratelimit_signin_failed(a, "ann", 3);
	cr_assert_not(ratelimit_signin_allowed(a, "ann", 3, &wait));
	cr_assert_geq(wait, 1);
	/* the account waits from any address; the address waits for any account */
	cr_assert_not(ratelimit_signin_allowed(b, "ann", 3, &wait));
	cr_assert_not(ratelimit_signin_allowed(a, "bob", 3, &wait));
	cr_assert(ratelimit_signin_allowed(b, "bob", 3, &wait));
	/* backoff doubles and is capped */
	for (int i = 0; i < 40; i++)
		ratelimit_signin_failed(a, "ann", 3);
	cr_assert_not(ratelimit_signin_allowed(b, "ann", 3, &wait));
	cr_assert_leq(wait, 60);
	cr_assert_geq(wait, 59);
	/* success clears the account, not the address */
	ratelimit_signin_succeeded(a, "ann", 3);
	cr_assert(ratelimit_signin_allowed(b, "ann", 3, &wait));
	cr_assert_not(ratelimit_signin_allowed(a, "carl", 4, &wait));
}

/* ---- admission ---- */

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	int order[16];
	int n;
} gate_t;

typedef struct {
	gate_t *g;
	int id;
	bool wait; /* blocks until the gate opens */
} job_arg;

static void job(void *p)
{
	job_arg *a = p;
	pthread_mutex_lock(&a->g->lock);
	a->g->order[a->g->n++] = a->id;
	pthread_cond_broadcast(&a->g->cond);
	while (a->wait && !a->g->open)
		pthread_cond_wait(&a->g->cond, &a->g->lock);
	pthread_mutex_unlock(&a->g->lock);
}

static void wait_started(gate_t *g, int n)
{
	pthread_mutex_lock(&g->lock);
	while (g->n < n)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void open_gate(gate_t *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

Test(admission, org_cap_leaves_workers_for_others)
{
	gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, {0}, 0};
	admission_t *a = admission_new(&(admission_opts){.threads = 2, .queue = 10, .org_queue = 2, .org_concurrency = 1});
	job_arg j1 = {&g, 1, true}, j2 = {&g, 2, true}, j3 = {&g, 3, true}, j4 = {&g, 4, true};
	cr_assert_eq(admission_push(a, 1, ADM_DASHBOARD, job, &j1), 0);
	wait_started(&g, 1);
	/* org 1 is at its cap: its next jobs queue, the third is refused */
	cr_assert_eq(admission_push(a, 1, ADM_DASHBOARD, job, &j2), 0);
	cr_assert_eq(admission_push(a, 1, ADM_DASHBOARD, job, &j3), 0);
	job_arg jx = {&g, 9, false};
	cr_assert_eq(admission_push(a, 1, ADM_DASHBOARD, job, &jx), ADMISSION_ORG_FULL);
	/* another org runs at once on the free worker, ahead of org 1's queue */
	cr_assert_eq(admission_push(a, 2, ADM_BULK, job, &j4), 0);
	wait_started(&g, 2);
	cr_assert_eq(g.order[1], 4);
	cr_assert_eq(admission_queued(a), 2);
	open_gate(&g);
	admission_free(a);
	cr_assert_eq(g.n, 4);
}

Test(admission, priority_and_turns)
{
	gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, {0}, 0};
	admission_t *a = admission_new(&(admission_opts){.threads = 1, .queue = 10, .org_queue = 10, .org_concurrency = 1});
	job_arg block = {&g, 1, true};
	cr_assert_eq(admission_push(a, 5, ADM_BULK, job, &block), 0);
	wait_started(&g, 1);
	job_arg bulk = {&g, 2, false}, list = {&g, 3, false}, dash_a = {&g, 4, false}, dash_a2 = {&g, 5, false},
	        dash_b = {&g, 6, false};
	admission_push(a, 1, ADM_BULK, job, &bulk);
	admission_push(a, 1, ADM_LIST, job, &list);
	admission_push(a, 1, ADM_DASHBOARD, job, &dash_a);
	admission_push(a, 1, ADM_DASHBOARD, job, &dash_a2);
	admission_push(a, 2, ADM_DASHBOARD, job, &dash_b);
	open_gate(&g);
	admission_free(a);
	/* dashboards first (oldest first, one worker so no org is busy when
	 * picked), then the list, then the bulk job */
	int want[] = {1, 4, 5, 6, 3, 2};
	cr_assert_eq(g.n, 6);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(g.order[i], want[i], "position %d: %d", i, g.order[i]);
	cr_assert_eq(admission_prio_of("list"), ADM_LIST);
	cr_assert_eq(admission_prio_of("import"), ADM_BULK);
	cr_assert_eq(admission_prio_of("overview"), -1);
}

Test(admission, full_queue_refused)
{
	gate_t g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, {0}, 0};
	admission_t *a = admission_new(&(admission_opts){.threads = 1, .queue = 2, .org_queue = 10, .org_concurrency = 1});
	job_arg block = {&g, 1, true}, x = {&g, 2, false}, y = {&g, 3, false}, z = {&g, 4, false};
	admission_push(a, 1, ADM_LIST, job, &block);
	wait_started(&g, 1);
	cr_assert_eq(admission_push(a, 2, ADM_LIST, job, &x), 0);
	cr_assert_eq(admission_push(a, 3, ADM_LIST, job, &y), 0);
	cr_assert_eq(admission_push(a, 4, ADM_LIST, job, &z), ADMISSION_FULL);
	open_gate(&g);
	admission_free(a);
	cr_assert_eq(g.n, 3);
}

static uint64_t key4(const char *a)
{
	struct sockaddr_in s = {.sin_family = AF_INET};
	cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return peer_key((struct sockaddr *)&s);
}

static uint64_t key6(const char *a)
{
	struct sockaddr_in6 s = {.sin6_family = AF_INET6};
	cr_assert_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return peer_key((struct sockaddr *)&s);
}

Test(peer, ipv6_by_its_64_prefix_and_mapped_ipv4_as_ipv4)
{
	cr_expect_neq(key4("10.0.0.7"), 0);
	cr_expect_neq(key4("10.0.0.7"), key4("10.0.0.8"));
	cr_expect_eq(key6("::ffff:10.0.0.7"), key4("10.0.0.7"), "a dual-stack listener's IPv4 client is that client");
	cr_expect_eq(key6("2001:db8:1:2::1"), key6("2001:db8:1:2:ffff:abcd:1234:5678"), "one /64 is one client");
	cr_expect_neq(key6("2001:db8:1:2::1"), key6("2001:db8:1:3::1"));
	cr_expect_neq(key6("::1"), 0);
	cr_expect_neq(key6("::1"), key4("127.0.0.1"));
	cr_expect_neq(key6("::ffff:0:0"), 0);
	struct sockaddr un = {.sa_family = AF_UNIX};
	cr_expect_eq(peer_key(&un), 0);
	char name[PEER_NAME_BUFSZ];
	struct sockaddr_in6 m = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m.sin6_addr);
	peer_name((struct sockaddr *)&m, name);
	cr_expect_str_eq(name, "192.0.2.1");
}

Test(peer, refused_tokens_count_per_64_prefix)
{
	configure(1, 5);
	uint64_t a = key6("2001:db8:aa:1::1"), same = key6("2001:db8:aa:1::99"), other = key6("2001:db8:aa:2::1");
	int wait;
	for (int i = 0; i < 3; i++)
		ratelimit_bad_token_note(a);
	cr_expect(ratelimit_bad_token_blocked(same, &wait), "another address of the /64 is the same client");
	cr_expect_not(ratelimit_bad_token_blocked(other, &wait));
}

Test(peer, listen_addresses)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[200];
	cr_expect(peer_listen_addr("127.0.0.1", 80, &ss, &len, err, sizeof err));
	cr_expect_eq(ss.ss_family, AF_INET);
	cr_expect(peer_listen_addr("::", 80, &ss, &len, err, sizeof err));
	cr_expect_eq(ss.ss_family, AF_INET6);
	cr_expect(peer_listen_addr("[::1]", 80, &ss, &len, err, sizeof err));
	cr_expect_eq(ss.ss_family, AF_INET6);
	cr_expect_not(peer_listen_addr("localhost", 80, &ss, &len, err, sizeof err));
	cr_expect(strstr(err, "bad listen address 'localhost'") != NULL, "%s", err);
	cr_expect_not(peer_listen_addr("[::1", 80, &ss, &len, err, sizeof err));
}
