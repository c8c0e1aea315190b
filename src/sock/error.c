/* SPDX-License-Identifier: MIT */
/* error.c -- error codes: names for every code, resolver code mapping */

#include "internal.h"

#include <netdb.h>
#include <string.h>

/*
 * Messages in lower case, so that a caller can embed them after a colon:
 * "sock: cannot connect to 127.0.0.1:9: connection refused".  The errnos
 * listed are those socket calls produce; others fall back to the C
 * library's description.
 */
static const char *const errno_text[] = {
	[EPERM] = "operation not permitted",
	[ENOENT] = "no such file or directory",
	[EINTR] = "interrupted system call",
	[EIO] = "input/output error",
	[ENXIO] = "no such device or address",
	[E2BIG] = "argument list too long",
	[EBADF] = "bad file descriptor",
	[EAGAIN] = "operation would block",
	[ENOMEM] = "out of memory",
	[EACCES] = "permission denied",
	[EFAULT] = "bad address in memory",
	[EBUSY] = "device or resource busy",
	[EEXIST] = "file exists",
	[ENODEV] = "no such device",
	[ENOTDIR] = "not a directory",
	[EISDIR] = "is a directory",
	[EINVAL] = "invalid argument",
	[ENFILE] = "too many open files in system",
	[EMFILE] = "too many open files",
	[ENOSPC] = "no space left",
	[ESPIPE] = "illegal seek",
	[EROFS] = "read-only file system",
	[EPIPE] = "broken pipe",
	[ERANGE] = "result out of range",
	[ENAMETOOLONG] = "name too long",
	[ENOSYS] = "function not implemented",
	[ELOOP] = "too many levels of symbolic links",
	[ENODATA] = "no data available",
	[EPROTO] = "protocol error",
	[EOVERFLOW] = "value too large",
	[ENOTSOCK] = "not a socket",
	[EDESTADDRREQ] = "destination address required",
	[EMSGSIZE] = "message too long",
	[EPROTOTYPE] = "protocol wrong type for socket",
	[ENOPROTOOPT] = "protocol not available",
	[EPROTONOSUPPORT] = "protocol not supported",
	[ESOCKTNOSUPPORT] = "socket type not supported",
	[EOPNOTSUPP] = "operation not supported",
	[EPFNOSUPPORT] = "protocol family not supported",
	[EAFNOSUPPORT] = "address family not supported",
	[EADDRINUSE] = "address already in use",
	[EADDRNOTAVAIL] = "cannot assign requested address",
	[ENETDOWN] = "network is down",
	[ENETUNREACH] = "network is unreachable",
	[ENETRESET] = "network dropped connection on reset",
	[ECONNABORTED] = "connection aborted",
	[ECONNRESET] = "connection reset by peer",
	[ENOBUFS] = "no buffer space available",
	[EISCONN] = "socket is already connected",
	[ENOTCONN] = "socket is not connected",
	[ESHUTDOWN] = "cannot send after socket shutdown",
	[ETIMEDOUT] = "timed out",
	[ECONNREFUSED] = "connection refused",
	[EHOSTDOWN] = "host is down",
	[EHOSTUNREACH] = "no route to host",
	[EALREADY] = "operation already in progress",
	[EINPROGRESS] = "operation in progress",
	[ECANCELED] = "operation canceled",
};

static const char *sock_error_text(int code)
{
	switch (code) {
	case SOCK_EBADADDR:
		return "invalid address";
	case SOCK_ENONAME:
		return "name or service not known";
	case SOCK_ETRYAGAIN:
		return "temporary failure in name resolution";
	case SOCK_ENORECOVERY:
		return "non-recoverable failure in name resolution";
	case SOCK_ENODATA:
		return "no address for that host of the family asked for";
	case SOCK_ESERVICE:
		return "service not available for that socket type";
	case SOCK_ERESOLVE:
		return "name resolution failed";
	case SOCK_EEOF:
		return "connection closed before all data arrived";
	case SOCK_ETRUNC:
		return "datagram truncated";
	case SOCK_ETLS:
		return "TLS handshake or protocol failure";
	case SOCK_ECERT:
		return "certificate verification failed";
	case SOCK_ETLSEOF:
		return "TLS stream cut without close_notify";
	}
	return NULL;
}

const char *sock_strerror(int code)
{
	const char *text;

	if (code == 0)
		return "success";
	text = sock_error_text(code);
	if (text)
		return text;
	/* Range first, then negate: -INT_MIN does not exist. */
	if (code < 0 && code > -(int)SOCK_ARRAY_SIZE(errno_text) &&
	    errno_text[-code])
		return errno_text[-code];
	if (code < 0 && code > -4096) {
		text = strerrordesc_np(-code);
		if (text)
			return text;
	}
	return "unknown error";
}

int sock__gai_error(int eai, int saved_errno)
{
	switch (eai) {
	case 0:
		return 0;
	case EAI_NONAME:
		return SOCK_ENONAME;
	case EAI_AGAIN:
		return SOCK_ETRYAGAIN;
	case EAI_FAIL:
		return SOCK_ENORECOVERY;
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return SOCK_ENODATA;
	case EAI_SERVICE:
	case EAI_SOCKTYPE:
		return SOCK_ESERVICE;
	case EAI_FAMILY:
		return -EAFNOSUPPORT;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_OVERFLOW:
		return -ENOSPC;
	case EAI_BADFLAGS:
		return -EINVAL;
	case EAI_SYSTEM:
		return saved_errno > 0 ? -saved_errno : SOCK_ERESOLVE;
	}
	return SOCK_ERESOLVE;
}

const char *sock_version(void)
{
	return SOCK_VERSION_STRING;
}
