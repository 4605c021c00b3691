/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * compat.h - what the wire code needs from its environment
 *
 * The wire code is compiled into ilp.ko and into libilp from the same source.
 * This header maps the few types and functions it uses onto the kernel's
 * or the C library's; the wire code itself includes nothing else.
 */
#ifndef _ILP_WIRE_COMPAT_H
#define _ILP_WIRE_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#endif /* _ILP_WIRE_COMPAT_H */
