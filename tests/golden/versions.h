/*
 * versions.h - the API version table the golden-capture responder
 * advertises: the recommended advertisement of
 * ../shared/reference/client-matrix.md section 3 (min 0 everywhere), so the
 * captured frames are the versions real clients send to such a broker.
 */
#ifndef GOLDEN_VERSIONS_H
#define GOLDEN_VERSIONS_H

#include <stdint.h>

static const struct {
	int16_t key, min, max;
} golden_versions[] = {
	{ 0, 0, 7 },	/* Produce */
	{ 1, 0, 11 },	/* Fetch */
	{ 2, 0, 5 },	/* ListOffsets */
	{ 3, 0, 8 },	/* Metadata */
	{ 8, 0, 7 },	/* OffsetCommit */
	{ 9, 0, 5 },	/* OffsetFetch */
	{ 10, 0, 2 },	/* FindCoordinator */
	{ 11, 0, 5 },	/* JoinGroup */
	{ 12, 0, 3 },	/* Heartbeat */
	{ 13, 0, 3 },	/* LeaveGroup */
	{ 14, 0, 3 },	/* SyncGroup */
	{ 15, 0, 4 },	/* DescribeGroups */
	{ 16, 0, 2 },	/* ListGroups */
	{ 17, 0, 1 },	/* SaslHandshake */
	{ 18, 0, 3 },	/* ApiVersions */
	{ 19, 0, 4 },	/* CreateTopics */
	{ 20, 0, 3 },	/* DeleteTopics */
	{ 21, 0, 1 },	/* DeleteRecords */
	{ 22, 0, 1 },	/* InitProducerId */
	{ 32, 0, 2 },	/* DescribeConfigs */
	{ 33, 0, 1 },	/* AlterConfigs */
	{ 36, 0, 1 },	/* SaslAuthenticate */
	{ 37, 0, 1 },	/* CreatePartitions */
	{ 42, 0, 1 },	/* DeleteGroups */
};

#endif /* GOLDEN_VERSIONS_H */
