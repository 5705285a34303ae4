/* brisk routes: the server's route table, one route a line, as the router
 * matches it. The OpenAPI test compares docs/openapi.json with it. */
#include <stdio.h>
#include <string.h>

#include "auth/policy.h"
#include "cli/cli.h"
#include "http/api.h"

int cmd_routes(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: brisk routes\n"
		       "\n"
		       "Prints every route of 'brisk serve', one a line: METHOD, path pattern\n"
		       "({name} matches one path segment), 'token' when it needs a bearer token\n"
		       "else 'public', the route's name (the route label of the metrics), and the\n"
		       "least role it needs (viewer, analyst, admin, operator; public: none).\n"
		       "GET routes also answer HEAD. The API is described in full by\n"
		       "GET /api/v1/openapi.json.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_fail("routes", EXIT_USAGE, "unexpected argument '%s'", argv[1]);
	static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OTHER"};
	size_t n;
	const http_route *rt = api_routes(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\t%s\n", names[rt[i].method], rt[i].pattern, rt[i].auth ? "token" : "public", rt[i].name,
		       policy_role_name(policy_route_role(rt[i].name)));
	return EXIT_OK;
}
