// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/atomic_file.hpp"

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ilp/unique_fd.hpp>

namespace fs = std::filesystem;

namespace ilpd
{

namespace
{

using Fd = ilp::UniqueFd;

[[noreturn]] void fail(const std::string &what, const fs::path &path)
{
	throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

} // namespace

void write_file_atomically(const fs::path &path, std::span<const std::uint8_t> data)
{
	const fs::path dir = path.parent_path();
	std::error_code ec;
	if (!dir.empty() && !fs::is_directory(dir, ec)) {
		// Its parents may be absent too (a fresh state directory).
		if (fs::create_directories(dir, ec))
			fs::permissions(dir, fs::perms::owner_all, ec);
		if (ec)
			throw std::system_error(ec, "cannot create " + dir.string());
	}

	// One writer per file (the module's worker), so a fixed temporary
	// name is enough; a leftover of a crash is simply overwritten.
	fs::path tmp = path;
	tmp += ".tmp";
	Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	if (fd.get() < 0)
		fail("cannot create", tmp);
	std::size_t off = 0;
	while (off < data.size()) {
		ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			::unlink(tmp.c_str());
			errno = err;
			fail("cannot write", tmp);
		}
		off += static_cast<std::size_t>(n);
	}
	if (::fsync(fd.get()) != 0 || fd.close() != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		errno = err;
		fail("cannot write", tmp);
	}
	if (::rename(tmp.c_str(), path.c_str()) != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		errno = err;
		fail("cannot rename to", path);
	}
	// The rename is only durable once the directory is: without this a
	// crash may bring back the old state (or none) after all.
	Fd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (dfd.get() < 0 || ::fsync(dfd.get()) != 0)
		fail("cannot sync", dir);
}

std::optional<std::vector<std::uint8_t>> read_file(const fs::path &path, std::size_t max_len)
{
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (fd.get() < 0) {
		if (errno == ENOENT)
			return std::nullopt;
		fail("cannot open", path);
	}
	struct stat st;
	if (::fstat(fd.get(), &st) != 0)
		fail("cannot stat", path);
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		fail("not a regular file:", path);
	}
	if (static_cast<std::uint64_t>(st.st_size) > max_len)
		throw std::length_error(path.string() + " is larger than " +
					std::to_string(max_len) + " bytes");
	std::vector<std::uint8_t> data(static_cast<std::size_t>(st.st_size));
	std::size_t off = 0;
	while (off < data.size()) {
		ssize_t n = ::read(fd.get(), data.data() + off, data.size() - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("cannot read", path);
		}
		if (n == 0)
			break; // shrank meanwhile: what we have is what there is
		off += static_cast<std::size_t>(n);
	}
	data.resize(off);
	return data;
}

} // namespace ilpd
