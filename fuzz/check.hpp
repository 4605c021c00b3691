// SPDX-License-Identifier: LGPL-2.1-or-later
//
// CHECK() for the fuzz targets: a property that failed must abort, so that
// libFuzzer reports it and saves the input, like a sanitizer's finding.
// Not assert(): it must not vanish in a build with NDEBUG.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,      \
				     #cond);                                                       \
			std::abort();                                                              \
		}                                                                                  \
	} while (0)
