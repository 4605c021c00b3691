// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the service modules share of their configuration: a time in
// milliseconds, 1 to UINT32_MAX (idle-timeout-ms, pipe-wait-ms).
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ilp::service::config
{

inline std::optional<std::uint32_t> parse_ms(const char *text)
{
	std::string_view s(text);
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v == 0)
		return std::nullopt;
	return v;
}

// config_changed() for such a key: @value into @out (@unset when the key
// is unset), or -EINVAL and @out as it was.
inline int change_ms(const char *value, std::uint32_t &out, std::uint32_t unset)
{
	auto t = value ? parse_ms(value) : std::optional<std::uint32_t>(unset);
	if (!t)
		return -EINVAL;
	out = *t;
	return 0;
}

} // namespace ilp::service::config
