/* clawvoice — the bus messages openclawrelay posts (an addition to clawvoice-contract.h, kept with
 * the element until the contract adopts it).
 *
 * CLAWVOICE_MESSAGE_TASK, an element message posted on every status change of a task the voice
 * handed to the agent, with fields:
 *   task-id     (uint)    1, 2, … per element, in the order the model asked
 *   call-id     (string)  the model's function call id
 *   status      (string)  one of the CLAWVOICE_TASK_* names below
 *   question    (string)  what the model sent (the `message` argument)
 *   elapsed-ms  (int64)   since the model asked
 *   answer      (string)  status done: the answer as handed to the voice (cleaned for speech)
 *   error       (string)  status failed / timeout / cancelled: what went wrong, for logs and pages
 */
#pragma once

#define CLAWVOICE_MESSAGE_TASK "clawvoice-task"

#define CLAWVOICE_TASK_PENDING "pending"     /* accepted, request not yet on the wire */
#define CLAWVOICE_TASK_RUNNING "running"     /* the gateway has the request */
#define CLAWVOICE_TASK_DONE "done"           /* answered; the answer was handed to the voice */
#define CLAWVOICE_TASK_FAILED "failed"       /* the gateway failed; an honest failure was spoken */
#define CLAWVOICE_TASK_CANCELLED "cancelled" /* the call ended first */
#define CLAWVOICE_TASK_TIMEOUT "timeout"     /* no answer within `timeout`; an apology was spoken */
