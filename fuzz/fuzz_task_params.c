/* fuzz_task_params: the params object of POST /api/v1/tasks as each task
 * kind checks it when a task is submitted (taskkind_t.check), after
 * jansson's parse with the API's flags.
 *
 * Byte 0 picks the kind (import, match, refresh, export, report); the rest
 * is the params JSON. Checks: a refusal always says why; accepted params
 * are checked again after a compact dump and reload (what the task record
 * stores and the worker reads) and are accepted again. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tasks/taskkind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = {"import", "match", "refresh", "export", "report"};
	if (size < 1)
		return 0;
	const taskkind_t *k = taskkind_find(kinds[data[0] % 5]);
	FUZZ_CHECK(k, "kind %s", kinds[data[0] % 5]);
	json_error_t je;
	json_t *p = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(p)) {
		json_decref(p);
		return 0;
	}
	char why[512] = "";
	if (!k->check(p, why, sizeof why)) {
		FUZZ_CHECK(why[0], "%s: a refusal without a reason", k->name);
	} else {
		char *canon = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(15));
		FUZZ_CHECK(canon, "dump");
		json_t *q = json_loads(canon, JSON_REJECT_DUPLICATES, &je);
		FUZZ_CHECK(json_is_object(q), "reload of '%s'", canon);
		FUZZ_CHECK(k->check(q, why, sizeof why), "%s: '%s' refused after a reload: %s", k->name, canon, why);
		json_decref(q);
		free(canon);
	}
	json_decref(p);
	return 0;
}
