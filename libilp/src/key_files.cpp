// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/key_files.hpp"

#include <cerrno>
#include <cstring>
#include <span>

#include <fcntl.h>
#include <unistd.h>

#include <ilp/error.hpp>
#include <ilp/unique_fd.hpp>

namespace ilp
{

namespace
{

// A master-keys file is a few lines; anything much bigger is the wrong file.
constexpr std::size_t max_file_size = 64 * 1024;

using Fd = ilp::UniqueFd;

// The file's contents in a buffer that is wiped when it goes away: it
// holds the keys in hex.  (An ifstream would leave a copy in its own
// buffer, out of our reach.)
class WipedText
{
public:
	WipedText() = default;
	WipedText(const WipedText &) = delete;
	WipedText &operator=(const WipedText &) = delete;
	~WipedText() { explicit_bzero(text_.data(), text_.size()); }

	std::string &str() noexcept { return text_; }

private:
	std::string text_;
};

std::string_view trim(std::string_view s)
{
	auto b = s.find_first_not_of(" \t\r");
	if (b == std::string_view::npos)
		return {};
	auto e = s.find_last_not_of(" \t\r");
	return s.substr(b, e - b + 1);
}

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// Decodes @hex into all of @out; false if @hex is anything else.
bool decode_hex(std::string_view hex, std::span<std::uint8_t> out)
{
	if (hex.size() != 2 * out.size())
		return false;
	for (std::size_t i = 0; i < out.size(); i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
	}
	return true;
}

// Decodes 64 hex digits into @key; false if @hex is anything else.
bool decode_key(std::string_view hex, ilp::psp::MasterKey &key)
{
	return decode_hex(hex, key.bytes());
}

// Reads the key file at @path (@what names it in messages: "master keys")
// into a buffer wiped afterwards and returns what @parse makes of it.
template <typename Parse>
auto read_key_file(const std::string &path, const std::string &what, Parse parse)
{
	Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (fd.get() < 0)
		throw ilp::Error(errno, what + " " + path + ": " + std::strerror(errno));

	WipedText text;
	// Sized once: growing the string would leave copies of the keys in
	// the buffers it frees.  Reading up to one byte past the limit tells
	// a file that is too big from one that fits exactly.
	text.str().resize(max_file_size + 1);
	std::size_t len = 0;
	while (len < text.str().size()) {
		ssize_t got = read(fd.get(), text.str().data() + len, text.str().size() - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			throw ilp::Error(errno, what + " " + path + ": " + std::strerror(errno));
		if (got == 0)
			break;
		len += static_cast<std::size_t>(got);
	}
	if (len > max_file_size)
		throw ilp::Error(EFBIG, what + " " + path + ": larger than " +
					    std::to_string(max_file_size / 1024) +
					    " KiB; is it the right file?");
	return parse(std::string_view(text.str()).substr(0, len), path);
}

// Calls @fn(line, number) for each line of @text that is not blank once
// comments and surrounding white space are gone.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn)
{
	int n = 0;
	while (!text.empty()) {
		n++;
		auto nl = text.find('\n');
		std::string_view line = text.substr(0, nl);
		text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
		line = trim(line.substr(0, line.find('#')));
		if (!line.empty())
			fn(line, n);
	}
}

} // namespace

MasterKeyFile parse_master_keys(std::string_view text, const std::string &name)
{
	MasterKeyFile f;
	int line_of[2] = {0, 0};
	for_each_line(text, [&](std::string_view line, int n) {
		auto where = name + ":" + std::to_string(n) + ": ";
		auto eq = line.find('=');
		// The line may be a bare key: say what is wrong, never quote it.
		if (eq == std::string_view::npos)
			throw ilp::Error(
			    EINVAL, where + "expected 'key0 = <64 hex digits>' or 'key1 = ...'");
		auto key = trim(line.substr(0, eq));
		auto value = trim(line.substr(eq + 1));
		unsigned slot;
		if (key == "key0")
			slot = 0;
		else if (key == "key1")
			slot = 1;
		else
			throw ilp::Error(EINVAL, where + "unknown key (expected key0 or key1)");
		auto slot_name = "key" + std::to_string(slot);
		if (f.present[slot])
			throw ilp::Error(EINVAL, where + slot_name + " already set on line " +
						     std::to_string(line_of[slot]));
		if (!decode_key(value, f.keys.key[slot]))
			throw ilp::Error(EINVAL,
					 where + slot_name + " must be 64 hex digits (got " +
					     std::to_string(value.size()) + " characters" +
					     (value.size() == 64 ? ", not all hex" : "") + ")");
		f.present[slot] = true;
		line_of[slot] = n;
	});
	if (!f.present[0] && !f.present[1])
		throw ilp::Error(EINVAL, name + ": sets neither key0 nor key1");
	return f;
}

MasterKeyFile read_master_keys(const std::string &path)
{
	return read_key_file(path, "master keys", parse_master_keys);
}

ilp::psp::SaKey parse_sa_key(std::string_view text, const std::string &name)
{
	ilp::psp::SaKey key{};
	int key_line = 0;
	for_each_line(text, [&](std::string_view line, int n) {
		auto where = name + ":" + std::to_string(n) + ": ";
		if (key_line)
			throw ilp::Error(EINVAL, where + "a second key (the first is on line " +
						     std::to_string(key_line) + ")");
		auto bytes = line.size() / 2;
		if ((line.size() != 32 && line.size() != 64) ||
		    !decode_hex(line, key.key.bytes().first(bytes)))
			throw ilp::Error(
			    EINVAL,
			    where +
				"expected an SA key of 32 or 64 hex digits "
				"(got " +
				std::to_string(line.size()) + " characters" +
				(line.size() == 32 || line.size() == 64 ? ", not all hex" : "") +
				")");
		key.size = bytes;
		key_line = n;
	});
	if (!key_line)
		throw ilp::Error(EINVAL, name + ": holds no SA key");
	return key;
}

ilp::psp::SaKey read_sa_key(const std::string &path)
{
	return read_key_file(path, "SA key", parse_sa_key);
}

} // namespace ilp
