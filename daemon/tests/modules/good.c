/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A well-formed module for the tests of the loader and the host: service
 * 100, "good".  It returns packets to their sender, and each payload that
 * is a command makes it exercise one part of struct ilp_env_ops, its
 * answer sent back (env->send) to the packet's sender:
 *
 *	install MS		forward back, installed with idle timeout MS
 *	drop			drop
 *	fail			handle() returns -EIO
 *	timer MS COOKIE		a timer in MS; when it fires: "fired COOKIE"
 *	cancel COOKIE		cancels that timer: "cancel RC"
 *	checkpoint TEXT		saves TEXT: "checkpoint RC"
 *	saved			what init() was given: "saved TEXT" or "saved none"
 *	set KEY VALUE		config_set: "set RC"
 *	get KEY			config_get: "get VALUE" or "get none"
 *	install-other		cache_install for service 999: "install-other RC"
 *	peer			"peer FLAGS PORT": the packet's struct ilp_peer
 *	rewrite-payload TEXT	back to the sender with TEXT as payload
 *	rewrite-md		back, its TLVs replaced by 0x0100 "md!!"
 *	rewrite-dst		back, its TLVs replaced by DST_HOST 10.9.8.7:1000
 *	rewrite-own		back with TLV 0x0003 (ILP's, not a service's)
 *	rewrite-install		back with payload "x", asking to install
 *	send-own		send() with SRC_HOST: "send-own RC"
 *
 * config_changed() rejects the key "bad" with -EINVAL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ilp/service.h>

#define MAX_TIMERS 8

struct good {
	const struct ilp_env_ops *ops;
	struct ilp_env *env;
	char saved[256];
	int has_saved;
	struct ilp_node last_prev;
	int64_t timer_ids[MAX_TIMERS]; /* by cookie */
};

/* TLVs for the rewrites: type, length (big-endian), value, padding. */
static const uint8_t md_service[] = {0x01, 0x00, 0x00, 0x04, 'm', 'd', '!', '!'};
static const uint8_t md_dst_host[] = {0x00, 0x02, 0x00, 0x06, 10, 9, 8, 7, 0x03, 0xe8, 0, 0};
static const uint8_t md_src_host[] = {0x00, 0x01, 0x00, 0x06, 10, 9, 8, 7, 0x03, 0xe8, 0, 0};
static const uint8_t md_own[] = {0x00, 0x03, 0x00, 0x04, 'o', 'w', 'n', '!'};

static void reply(struct good *g, const struct ilp_node *to, const char *text)
{
	g->ops->send(g->env, 100, to, 1, NULL, 0, (const uint8_t *)text, strlen(text));
}

static void fire(void *state, uint64_t cookie)
{
	struct good *g = state;
	char text[64];

	if (cookie < MAX_TIMERS)
		g->timer_ids[cookie] = 0;
	snprintf(text, sizeof(text), "fired %llu", (unsigned long long)cookie);
	reply(g, &g->last_prev, text);
}

static int good_init(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		     size_t saved_len, void **state)
{
	struct good *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->ops = ops;
	g->env = env;
	if (saved) {
		if (saved_len >= sizeof(g->saved))
			saved_len = sizeof(g->saved) - 1;
		memcpy(g->saved, saved, saved_len);
		g->has_saved = 1;
	}
	*state = g;
	return 0;
}

static void good_fini(void *state)
{
	free(state);
}

static void back_to_sender(const struct ilp_packet *pkt, struct ilp_decision *out)
{
	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = pkt->flow.prev;
}

static int good_handle(void *state, const struct ilp_packet *pkt, struct ilp_decision *out)
{
	struct good *g = state;
	char cmd[300], a[256], b[256], text[300];
	unsigned long long n1, n2;
	size_t len = pkt->payload_len < sizeof(cmd) - 1 ? pkt->payload_len : sizeof(cmd) - 1;

	memcpy(cmd, pkt->payload, len);
	cmd[len] = 0;
	g->last_prev = pkt->flow.prev;

	if (sscanf(cmd, "install %llu", &n1) == 1) {
		back_to_sender(pkt, out);
		out->install = 1;
		out->idle_timeout_ms = (uint32_t)n1;
	} else if (!strcmp(cmd, "drop")) {
		/* out stays zero: a drop */
	} else if (!strcmp(cmd, "fail")) {
		return -EIO;
	} else if (sscanf(cmd, "timer %llu %llu", &n1, &n2) == 2) {
		int64_t id = g->ops->timer_add(g->env, (uint32_t)n1, fire, n2);
		if (n2 < MAX_TIMERS)
			g->timer_ids[n2] = id;
	} else if (sscanf(cmd, "cancel %llu", &n1) == 1) {
		int rc = n1 < MAX_TIMERS ? g->ops->timer_cancel(g->env, g->timer_ids[n1]) : -ENOENT;
		snprintf(text, sizeof(text), "cancel %d", rc);
		reply(g, &pkt->flow.prev, text);
	} else if (!strncmp(cmd, "checkpoint ", 11)) {
		int rc = g->ops->checkpoint(g->env, cmd + 11, strlen(cmd + 11));
		snprintf(text, sizeof(text), "checkpoint %d", rc);
		reply(g, &pkt->flow.prev, text);
	} else if (!strcmp(cmd, "saved")) {
		snprintf(text, sizeof(text), "saved %s", g->has_saved ? g->saved : "none");
		reply(g, &pkt->flow.prev, text);
	} else if (sscanf(cmd, "set %255s %255s", a, b) == 2) {
		snprintf(text, sizeof(text), "set %d", g->ops->config_set(g->env, a, b));
		reply(g, &pkt->flow.prev, text);
	} else if (sscanf(cmd, "get %255s", a) == 1) {
		const char *v = g->ops->config_get(g->env, a);
		snprintf(text, sizeof(text), "get %s", v ? v : "none");
		reply(g, &pkt->flow.prev, text);
	} else if (!strcmp(cmd, "install-other")) {
		struct ilp_flow other = pkt->flow;
		struct ilp_decision d;

		memset(&d, 0, sizeof(d));
		other.service = 999;
		snprintf(text, sizeof(text), "install-other %d",
			 g->ops->cache_install(g->env, &other, &d));
		reply(g, &pkt->flow.prev, text);
	} else if (!strcmp(cmd, "peer")) {
		snprintf(text, sizeof(text), "peer %u %u", pkt->peer.flags, pkt->peer.node.port);
		reply(g, &pkt->flow.prev, text);
	} else if (!strncmp(cmd, "rewrite-payload ", 16)) {
		back_to_sender(pkt, out);
		out->rewrite = ILP_REWRITE_PAYLOAD;
		/* Into the packet: valid until handle() returns. */
		out->payload = pkt->payload + 16;
		out->payload_len = pkt->payload_len - 16;
	} else if (!strcmp(cmd, "rewrite-md")) {
		back_to_sender(pkt, out);
		out->rewrite = ILP_REWRITE_METADATA;
		out->metadata = md_service;
		out->metadata_len = sizeof(md_service);
	} else if (!strcmp(cmd, "rewrite-dst")) {
		back_to_sender(pkt, out);
		out->rewrite = ILP_REWRITE_METADATA;
		out->metadata = md_dst_host;
		out->metadata_len = sizeof(md_dst_host);
	} else if (!strcmp(cmd, "rewrite-own")) {
		back_to_sender(pkt, out);
		out->rewrite = ILP_REWRITE_METADATA;
		out->metadata = md_own;
		out->metadata_len = sizeof(md_own);
	} else if (!strcmp(cmd, "rewrite-install")) {
		back_to_sender(pkt, out);
		out->rewrite = ILP_REWRITE_PAYLOAD;
		out->payload = (const uint8_t *)"x";
		out->payload_len = 1;
		out->install = 1;
	} else if (!strcmp(cmd, "send-own")) {
		int rc = g->ops->send(g->env, 100, &pkt->flow.prev, 1, md_src_host,
				      sizeof(md_src_host), (const uint8_t *)"x", 1);
		snprintf(text, sizeof(text), "send-own %d", rc);
		reply(g, &pkt->flow.prev, text);
	} else {
		back_to_sender(pkt, out);
	}
	return 0;
}

static int good_config_changed(void *state, const char *key, const char *value)
{
	(void)state;
	(void)value;
	return strcmp(key, "bad") ? 0 : -EINVAL;
}

static const struct ilp_service good = {
    ILP_SERVICE_INIT,
    .service_id = 100,
    .name = "good",
    .description = "a module for the tests",
    .init = good_init,
    .fini = good_fini,
    .handle = good_handle,
    .config_changed = good_config_changed,
};

ILP_SERVICE_EXPORT(good);
