// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Where AF_ILP is.  The module takes a retired address family number chosen
// at load time, so applications ask at run time instead of compiling it in.
#pragma once

#include <filesystem>
#include <optional>

namespace ilp
{

// The number the loaded module registered, read from @sysfs_param; nullopt
// when the module is not loaded (the file is absent).  Throws
// std::runtime_error when the file exists but does not hold a number.
std::optional<int> loaded_af(const std::filesystem::path &sysfs_param);

// The AF_ILP number to pass to socket(2): the loaded module's, else the
// default one, for which socket(2) loads the module through its alias.
int af_ilp();

} // namespace ilp
