// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::UniqueFd: owns one file descriptor and closes it when it goes, as
// std::unique_ptr owns memory.  Header-only, so that the tools that link
// nothing else of libilp can have it too.
#pragma once

#include <utility>

#include <unistd.h>

namespace ilp
{

class UniqueFd
{
public:
	UniqueFd() noexcept = default;
	explicit UniqueFd(int fd) noexcept : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		if (this != &other)
			reset(other.release());
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd() { reset(); }

	int get() const noexcept { return fd_; }
	explicit operator bool() const noexcept { return fd_ >= 0; }

	// Gives the descriptor up, unclosed.
	int release() noexcept { return std::exchange(fd_, -1); }

	// Closes the descriptor held (if any) and holds @fd instead.
	void reset(int fd = -1) noexcept
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

	// Closes now and returns close()'s result, for callers that must
	// see its error (NFS reports failed writes there).
	int close() noexcept { return ::close(std::exchange(fd_, -1)); }

private:
	int fd_ = -1;
};

} // namespace ilp
