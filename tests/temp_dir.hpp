// SPDX-License-Identifier: GPL-2.0-or-later
//
// A temporary directory for one test, removed with everything in it when
// the test's fixture goes away (CppUnit makes a fixture per test).
#pragma once

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

class TempDir
{
public:
	TempDir()
	{
		char tmpl[] = "/tmp/ilp-test.XXXXXX";
		if (!mkdtemp(tmpl))
			throw std::system_error(errno, std::generic_category(), "mkdtemp");
		path_ = tmpl;
	}
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	~TempDir()
	{
		std::error_code ec;
		std::filesystem::remove_all(path_, ec);
	}

	const std::filesystem::path &path() const noexcept { return path_; }

	// Writes @content to the file @name in the directory; returns its path.
	std::filesystem::path write(const std::string &name, const std::string &content) const
	{
		auto p = path_ / name;
		std::ofstream(p) << content;
		return p;
	}

private:
	std::filesystem::path path_;
};
