// SPDX-License-Identifier: GPL-2.0-or-later
//
// Small helpers the CppUnit tests share.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <thread>

// Polls @cond every 2 ms until it holds (true) or @limit has passed
// (false): for what another thread or process makes true in its time.
inline bool eventually(const std::function<bool()> &cond,
		       std::chrono::steady_clock::duration limit = std::chrono::seconds(5))
{
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!cond()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	return true;
}

// @b in lower-case hex, as key files hold keys.
inline std::string hex(std::span<const std::uint8_t> b)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (auto x : b) {
		s += digits[x >> 4];
		s += digits[x & 0xf];
	}
	return s;
}
