// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Numbers as ILP's tools and addresses write them: service and connection
// IDs, SPIs, counts.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace ilp
{

// All of @s as an unsigned number, decimal or hexadecimal with "0x";
// nullopt if it is not one or does not fit @T.
template <typename T>
std::optional<T> parse_uint(std::string_view s)
{
	int base = 10;
	if (s.starts_with("0x") || s.starts_with("0X")) {
		s.remove_prefix(2);
		base = 16;
	}
	T v{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return v;
}

} // namespace ilp
