/* error.c - the one error type: messages, names and exit statuses. */
#include "aisp.h"

#include <stdarg.h>
#include <stdio.h>

#include "text.h"

aisp_err aisp_fail(aisp_error *err, aisp_err code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* one line, and input quoted in it never reaches a terminal as a control code */
	text_printable(err->msg, sizeof(err->msg), err->msg);
	return code;
}

const char *aisp_err_name(aisp_err code)
{
	static const char *const names[] = {
		[AISP_OK] = "ok",
		[AISP_EUSAGE] = "usage",
		[AISP_EINPUT] = "input",
		[AISP_EIO] = "io",
		[AISP_ENOMEM] = "nomem",
		[AISP_EDEVICE] = "device",
		[AISP_EVERIFY] = "verify",
		[AISP_EINCOMPLETE] = "incomplete",
		[AISP_EREGRESSION] = "regression",
		[AISP_ETIMEOUT] = "timeout",
		[AISP_ECRASH] = "crash",
		[AISP_EINTERRUPT] = "interrupted",
		[AISP_EINTERNAL] = "internal",
	};
	if ((unsigned)code >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[code];
}

int aisp_err_exit_status(aisp_err code)
{
	switch (code) {
	case AISP_OK:
		return 0;
	case AISP_EUSAGE:
	case AISP_EINPUT:
		return 2;
	case AISP_EINCOMPLETE:
	case AISP_EINTERRUPT:
		return 3;
	default:
		return 1;
	}
}
