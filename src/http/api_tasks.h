/* api_tasks: the background-task routes (api_tasks.c) and the event
 * stream (api_events.c), over src/tasks through app_t.
 *   POST   /api/v1/tasks                {kind, params, priority} -> 202
 *   GET    /api/v1/tasks                ?status=&kind=&limit=
 *   GET    /api/v1/tasks/{id}
 *   DELETE /api/v1/tasks/{id}           cancels
 *   GET    /api/v1/tasks/{id}/result    the file, or the result JSON
 *   POST   /api/v1/import/{kind}        large uploads (or ?async=1) -> 202 task
 *   POST   /api/v1/datasets/{name}/import  the same for data sets (api_datasets.c)
 *   GET    /api/v1/events               server-sent events of the org
 * Every answer is scoped to the caller's org: another org's task is 404. */
#ifndef BRISK_API_TASKS_H
#define BRISK_API_TASKS_H

#include "http/server.h"

void api_tasks_submit(http_server_t *srv, http_req_t *r);
void api_tasks_list(http_server_t *srv, http_req_t *r);
void api_tasks_get(http_server_t *srv, http_req_t *r);
void api_tasks_cancel(http_server_t *srv, http_req_t *r);
void api_tasks_result(http_server_t *srv, http_req_t *r);
/* Uploads over tasks.async_import_bytes (or with ?async=1) are spooled and
 * imported by a task (202); smaller ones go to api_rows_import as before. */
void api_tasks_import(http_server_t *srv, http_req_t *r);
/* Whether an upload goes to a background task: 1 (?async=1, or a body over
 * tasks.async_import_bytes, with tasks running), 0, or -1 (a bad async
 * value, answered). */
int api_tasks_upload_async(http_server_t *srv, http_req_t *r);
/* Spools the body and queues task kind with params {target_key: target,
 * "options": the query but async, "size"}: answers 202 with the task (its
 * progress and DELETE to cancel as for any task), or the failure. */
void api_tasks_upload(http_server_t *srv, http_req_t *r, const char *kind, const char *target_key,
                      const char *target);
/* On the loop: starts the stream (route on_loop). */
void api_events_stream(http_server_t *srv, http_req_t *r);

#endif
