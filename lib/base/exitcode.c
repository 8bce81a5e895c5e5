/*
 * exitcode: the one classification of failures (see exitcode.h).
 */
#include <errno.h>
#include <sysexits.h>

#include "base/exitcode.h"

int
exitcode_from_error(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -EAGAIN:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ETIMEDOUT:
	case -EBUSY:
		return EX_TEMPFAIL;
	case -EBADMSG:
		return EX_DATAERR;
	case -EPERM:
		return EX_NOUSER;
	case -EINVAL:
		return EX_CONFIG;
	default:
		return 1;
	}
}

enum exitcode_class
exitcode_classify(int status)
{
	switch (status) {
	case 0:
		return EXITCODE_OK;
	case EX_TEMPFAIL:
		return EXITCODE_TEMPORARY;
	case EX_USAGE:
	case EX_DATAERR:
	case EX_NOINPUT:
	case EX_NOUSER:
	case EX_PROTOCOL:
	case EX_NOPERM:
	case EX_CONFIG:
		return EXITCODE_FINAL;
	default:
		return EXITCODE_UNCLASSIFIED;
	}
}

const char *
exitcode_strclass(enum exitcode_class c)
{
	switch (c) {
	case EXITCODE_OK:
		return "ok";
	case EXITCODE_TEMPORARY:
		return "temporary";
	case EXITCODE_FINAL:
		return "final";
	case EXITCODE_UNCLASSIFIED:
		return "unclassified";
	}
	return "?";
}

bool
exitcode_retryable(int status, bool timed_out, int term_signal, bool transient)
{
	if (timed_out || term_signal != 0)
		return true;
	switch (exitcode_classify(status)) {
	case EXITCODE_TEMPORARY:
		return true;
	case EXITCODE_UNCLASSIFIED:
		return transient;
	default:
		return false;
	}
}
