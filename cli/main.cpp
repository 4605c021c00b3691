// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl - configure and inspect ILP, in the manner of ip(8) and wg(8):
//
//   ilpctl [-j [-p]] [-n NETNS] [-S SOCKET] OBJECT [COMMAND [ARGS...]]
//   ilpctl [-j [-p]] [-n NETNS] [-S SOCKET] -b FILE
//
// Exit status: 0 success, 1 the operation failed, 2 bad command line.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <ilp/error.hpp>
#include <ilp/version.hpp>

#include "ilpctl.hpp"

using namespace ilpctl;

namespace
{

void usage(std::ostream &os)
{
	os << "usage: ilpctl [OPTIONS] OBJECT [COMMAND [ARGS...]]\n"
	      "\n"
	      "options:\n"
	      "  -j, --json         print JSON instead of text\n"
	      "  -p, --pretty       indent the JSON\n"
	      "  -n, --netns NAME   act in network namespace NAME (as ip -n)\n"
	      "  -S, --socket PATH  ilpd's control socket, for service and daemon (default:\n"
	      "                     $ILPD_SOCKET, else /run/ilp/ilpd.sock)\n"
	      "  -b, --batch FILE   run the commands in FILE (- for stdin), one per\n"
	      "                     line (# starts a comment); stop at the first error\n"
	      "  -V, --version      print ilpctl's version and exit\n"
	      "  -h, --help         print this help and exit\n"
	      "\n"
	      "commands (* needs CAP_NET_ADMIN):\n";
	for (const auto &c : commands()) {
		std::string line = std::string(c.object);
		if (!c.verb.empty())
			line += " " + std::string(c.verb);
		if (!c.usage.empty())
			line += " " + std::string(c.usage);
		// The help in a column; a long synopsis gets a line of its own.
		os << "  " << (c.changes_state ? '*' : ' ') << ' ' << line;
		if (line.size() < 28)
			os << std::string(28 - line.size(), ' ');
		else
			os << '\n' << std::string(32, ' ');
		os << c.help << '\n';
	}
	os << "\nOBJECT alone runs its \"show\" command.\n"
	      "\n"
	      "pcap: IN and OUT are Ethernet captures.  FILE holds the receiving node's\n"
	      "PSP master keys, never given on the command line:\n"
	      "  # comment\n"
	      "  key0 = <64 hex digits>\n"
	      "  key1 = <64 hex digits>\n"
	      "either or both; the SPI's top bit selects one.  SPI is hex (0x...) or\n"
	      "decimal; --version 0 is AES-GCM-128 (the default), 1 AES-GCM-256; N is\n"
	      "the ILP UDP port (default 1000).  See docs/ilpctl-pcap.md.\n"
	      "\n"
	      "key: FILE is a master-keys file as above; \"key set\" takes the key of\n"
	      "SLOT from it, \"key rotate\" a file with exactly one key.\n"
	      "\n"
	      "peer: ADDR is IPv4 or IPv6, PORT the peer's ILP port (default 1000); an\n"
	      "IPv6 address with a port goes in brackets: [2001:db8::1]:1000.  SPI and\n"
	      "the key in the keyfile are what \"ilpctl sa alloc\" printed on the peer:\n"
	      "the keyfile holds that key alone, 32 hex digits for version 0 or 64 for\n"
	      "version 1.\n"
	      "\n"
	      "cache: a flow is the packets of connection C of service S that came from\n"
	      "the previous hop PREV (ADDR[:PORT] as for peer; a port is accepted but\n"
	      "not matched: flows are keyed by PREV's address alone, since senders put a\n"
	      "flow hash in their UDP source port).  Its decision forwards a copy to each\n"
	      "next hop (at most 16, each a peer with a transmit SA), delivers to a local\n"
	      "socket, or drops.  S and C are decimal or hex (0x...).\n"
	      "\n"
	      "service, daemon: ask ilpd, over its control socket (-S), which root and\n"
	      "ilpd's user alone may use.  PATH is a service module (.so); \"service\n"
	      "config\" sets each KEY to VALUE, then prints the configuration.\n";
}

// Moves this process into the named network namespace, as "ip -n" does.
void enter_netns(const std::string &name)
{
	std::string path = "/run/netns/" + name;
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw ilp::Error(errno,
				 "network namespace '" + name + "': " + std::strerror(errno));
	int rc = setns(fd, CLONE_NEWNET);
	int err = errno;
	close(fd);
	if (rc < 0)
		throw ilp::Error(err, "cannot enter network namespace '" + name +
					  "': " + std::strerror(err));
}

const Command &find_command(std::vector<std::string> &words)
{
	const std::string &object = words[0];
	bool known_object = false;
	for (const auto &c : commands()) {
		if (c.object != object)
			continue;
		known_object = true;
		if (c.verb.empty()) {
			words.erase(words.begin());
			return c;
		}
		if (words.size() > 1 && c.verb == words[1]) {
			words.erase(words.begin(), words.begin() + 2);
			return c;
		}
	}
	if (!known_object)
		throw UsageError("unknown object '" + object + "' (try ilpctl --help)");
	if (words.size() == 1) {
		for (const auto &c : commands())
			if (c.object == object && c.verb == "show") {
				words.erase(words.begin());
				return c;
			}
	}
	throw UsageError("unknown command '" + (words.size() > 1 ? words[1] : std::string()) +
			 "' for object '" + object + "' (try ilpctl --help)");
}

int run_words(Context &ctx, std::vector<std::string> words)
{
	const Command &cmd = find_command(words);
	int n = static_cast<int>(words.size());
	if (n < cmd.min_args || n > cmd.max_args)
		throw UsageError("wrong number of arguments; usage: ilpctl " +
				 std::string(cmd.object) + " " + std::string(cmd.verb) + " " +
				 std::string(cmd.usage));
	return cmd.run(ctx, words);
}

// As "ip -batch": one process for many commands (a script adding a
// thousand peers should not start a thousand programs).  An error names
// the file and line and ends the batch, so nothing runs past a mistake.
int run_batch(Context &ctx, const std::string &file)
{
	std::ifstream f;
	if (file != "-") {
		f.open(file);
		if (!f)
			throw ilp::Error(errno,
					 "cannot read " + file + ": " + std::strerror(errno));
	}
	std::istream &in = file == "-" ? std::cin : f;
	const std::string name = file == "-" ? "<stdin>" : file;
	std::string line;
	for (unsigned lineno = 1; std::getline(in, line); lineno++) {
		line = line.substr(0, line.find('#'));
		std::istringstream ws(line);
		std::vector<std::string> words{std::istream_iterator<std::string>(ws), {}};
		if (words.empty())
			continue;
		try {
			if (int rc = run_words(ctx, words))
				return rc;
		} catch (const UsageError &e) {
			throw UsageError(name + ":" + std::to_string(lineno) + ": " + e.what());
		} catch (const std::system_error &e) {
			throw ilp::Error(e.code().value(),
					 name + ":" + std::to_string(lineno) + ": " + e.what());
		}
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	Context ctx{.out = std::cout};
	std::string netns;
	std::string batch;
	std::vector<std::string> words;

	try {
		int i = 1;
		for (; i < argc && argv[i][0] == '-'; i++) {
			std::string opt = argv[i];
			if (opt == "-j" || opt == "--json") {
				ctx.json = true;
			} else if (opt == "-p" || opt == "--pretty") {
				ctx.pretty = true;
			} else if (opt == "-n" || opt == "--netns") {
				if (++i == argc)
					throw UsageError(opt + " needs a namespace name");
				netns = argv[i];
				ctx.netns = netns;
			} else if (opt == "-S" || opt == "--socket") {
				if (++i == argc || !*argv[i])
					throw UsageError(opt + " needs a socket path");
				ctx.socket = argv[i];
			} else if (opt == "-b" || opt == "--batch") {
				if (++i == argc)
					throw UsageError(opt + " needs a file name");
				batch = argv[i];
			} else if (opt == "-V" || opt == "--version") {
				std::cout << "ilpctl " << ilp::version << '\n';
				return 0;
			} else if (opt == "-h" || opt == "--help") {
				usage(std::cout);
				return 0;
			} else {
				throw UsageError("unknown option '" + opt +
						 "' (try ilpctl --help)");
			}
		}
		words.assign(argv + i, argv + argc);
		if (!batch.empty()) {
			if (!words.empty())
				throw UsageError("--batch takes no command on the command line");
			if (!netns.empty())
				enter_netns(netns);
			return run_batch(ctx, batch);
		}
		if (words.empty()) {
			usage(std::cerr);
			return 2;
		}
		if (words[0] == "help") {
			usage(std::cout);
			return 0;
		}
		// Look the command up before entering the namespace: a typo is a
		// usage error whatever the namespace.
		std::vector<std::string> probe = words;
		find_command(probe);
		if (!netns.empty())
			enter_netns(netns);
		return run_words(ctx, words);
	} catch (const UsageError &e) {
		std::cerr << "ilpctl: " << e.what() << '\n';
		return 2;
	} catch (const std::exception &e) {
		std::cerr << "ilpctl: " << e.what() << '\n';
		return 1;
	}
}
