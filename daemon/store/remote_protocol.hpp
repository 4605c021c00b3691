// SPDX-License-Identifier: GPL-2.0-or-later
//
// A store reached over the control channel (docs/store.md, "Over the
// control channel"): the requests an SN sends to the ilpd that holds its
// edomain's core (or the lookup service's store), and the replies, as
// JSON in the payload of SVC_REQ and SVC_REPLY to a service number ilpd
// keeps for itself.  A payload is at most ctl::kMaxServicePayload
// (1000) bytes, so listings and watches come in pages: a reply says
// "more", and the client asks again after the last key or revision it
// got.  Everything that is not exactly a valid message is refused with
// StoreError (Invalid on the server, Corrupt on the client).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace ilpd::store::remote
{

// The service numbers of SVC_REQ that ilpd answers itself, never a
// module (docs/protocol.md, "Service IDs": 0xffffff00 and up are
// ilpd's): its edomain core's store and the lookup service's.
inline constexpr std::uint32_t kCoreService = 0xffffff00;
inline constexpr std::uint32_t kLookupService = 0xffffff01;

// The largest payload: a PUT carries a key and value of some 900 bytes
// of ASCII (fewer of other bytes, which take two or six in JSON).
inline constexpr std::size_t kMaxPayload = 1000;
// A watch's longest wait on the server, per request.
inline constexpr std::int64_t kMaxWaitMs = 5000;

enum class Op { Put, Get, Del, List, Cas, Rev, Watch, Compact };

struct Request {
	Op op = Op::Rev;
	std::string key;          // put, get, del, cas; list and watch: the prefix
	std::string value;        // put, cas
	Revision revision = 0;    // cas: expected; watch: from; compact: the revision
	std::string after;        // list: the last key of the page before
	std::int64_t wait_ms = 0; // watch: how long the server may wait for an event
};

// Throws StoreError(Invalid) for a request that is not one.
std::string encode(const Request &r);
Request parse_request(const std::string &payload);

// A reply is one JSON object; which fields it has depends on the op:
// "r" a revision, "rec" a record (get), "recs" records (list), "ev"
// events (watch), "more" (list, watch).
struct Reply {
	std::optional<Revision> revision;
	std::optional<Record> record;
	std::vector<Record> records;
	std::vector<Event> events;
	bool more = false;
};
// Encodes what fits in kMaxPayload: records and events beyond are left
// off and "more" set.  Throws StoreError(Corrupt) when not even one fits.
std::string encode(const Reply &r);
// Throws StoreError(Corrupt).
Reply parse_reply(const std::string &payload);

// An error's status in SVC_REPLY (a negative errno) and back.
int status_of(StoreError::Kind kind);
StoreError::Kind kind_of(int status);

} // namespace ilpd::store::remote
