// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libilp reports errors by throwing ilp::Error (a std::system_error whose
// code() is the errno) or one of its subclasses.  what() is a complete
// sentence for a user, not "message: strerror" glued by the base class.
#pragma once

#include <string>
#include <system_error>

namespace ilp
{

class Error : public std::system_error
{
public:
	Error(int err, std::string message)
	    : std::system_error(err, std::generic_category()), message_(std::move(message))
	{
	}
	const char *what() const noexcept override { return message_.c_str(); }

private:
	std::string message_;
};

} // namespace ilp
