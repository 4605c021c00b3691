// SPDX-License-Identifier: GPL-2.0-or-later
//
// The test modules of modules/, copied into a test's own directory: the
// loader checks the directory's and the file's owner and mode, which the
// build directory may not satisfy (a umask of 002), and tests change them.
#pragma once

#include <filesystem>
#include <string>

#include "temp_dir.hpp"

inline std::filesystem::path
install_module(const TempDir &dir, const std::string &name,
	       std::filesystem::perms perms = std::filesystem::perms(0644))
{
	namespace fs = std::filesystem;
	fs::path to = dir.path() / (name + ".so");
	fs::copy_file(fs::path(ILPD_TEST_MODULES) / (name + ".so"), to,
		      fs::copy_options::overwrite_existing);
	fs::permissions(to, perms);
	return to;
}
