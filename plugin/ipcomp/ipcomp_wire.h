/* SPDX-License-Identifier: Apache-2.0
 * Copyright (c) 2026 vppcomp authors
 */

/*
 * ipcomp_wire.h: the IPComp packet format (RFC 3173) and the IPv4/IPv6 header
 * rewrites around it, as pure functions on byte arrays.
 *
 * No VPP headers: the data-path nodes call these, and the unit tests in
 * plugin/test/ exercise the very same code without VPP.  All multi-byte
 * fields on the wire are big-endian; the helpers take host-order values.
 */

#ifndef included_ipcomp_wire_h
#define included_ipcomp_wire_h

#include <stdint.h>
#include <string.h>

#define IPCOMP_IP_PROTOCOL   108 /* IANA: IPComp */
#define IPCOMP_HEADER_LEN    4
#define IPCOMP_IP4_HDR_LEN   20
#define IPCOMP_IP6_HDR_LEN   40
#define IPCOMP_PROTO_IPIP    4	/* IPv4 in IP */
#define IPCOMP_PROTO_IPV6    41 /* IPv6 in IP */
#define IPCOMP_MAX_IP_PACKET 65535

/* Results of the parse helpers */
typedef enum
{
  IPCOMP_WIRE_OK = 0,
  IPCOMP_WIRE_TRUNCATED,	/* fewer bytes than the headers need */
  IPCOMP_WIRE_BAD_HEADER,	/* version, IHL or length fields inconsistent */
  IPCOMP_WIRE_FRAGMENT,		/* outer header is a fragment */
  IPCOMP_WIRE_NOT_IPCOMP,	/* protocol / next header is not 108 */
  IPCOMP_WIRE_BAD_INNER,	/* decompressed data is not what next header says */
  IPCOMP_WIRE_IPCOMP_IN_IPCOMP, /* next header is IPComp again */
} ipcomp_wire_status_t;

static inline uint16_t
ipcomp_get_u16 (const uint8_t *p)
{
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline void
ipcomp_put_u16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) (v >> 8);
  p[1] = (uint8_t) v;
}

/* RFC 3173 section 3: Next Header (8), Flags (8, zero), CPI (16) */
static inline void
ipcomp_header_write (uint8_t *p, uint8_t next_header, uint16_t cpi)
{
  p[0] = next_header;
  p[1] = 0;
  ipcomp_put_u16 (p + 2, cpi);
}

static inline int
ipcomp_header_read (const uint8_t *p, uint32_t len, uint8_t *next_header, uint16_t *cpi)
{
  if (len < IPCOMP_HEADER_LEN)
    return IPCOMP_WIRE_TRUNCATED;
  /* Flags are reserved: set to zero on send, ignored on receipt (RFC 3173) */
  *next_header = p[0];
  *cpi = ipcomp_get_u16 (p + 2);
  if (p[0] == IPCOMP_IP_PROTOCOL)
    return IPCOMP_WIRE_IPCOMP_IN_IPCOMP;
  return IPCOMP_WIRE_OK;
}

/* Internet checksum of an IPv4 header (checksum field included as stored);
 * returns the value to store, host order. */
static inline uint16_t
ipcomp_ip4_checksum (const uint8_t *hdr, uint32_t hdr_len)
{
  uint32_t sum = 0, i;
  for (i = 0; i + 1 < hdr_len; i += 2)
    {
      if (i == 10)
	continue; /* the checksum field itself */
      sum += ipcomp_get_u16 (hdr + i);
    }
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) ~sum;
}

static inline int
ipcomp_ip4_checksum_ok (const uint8_t *hdr, uint32_t hdr_len)
{
  return ipcomp_ip4_checksum (hdr, hdr_len) == ipcomp_get_u16 (hdr + 10);
}

/* Set total length and protocol of an IPv4 header and fix its checksum */
static inline void
ipcomp_ip4_fixup (uint8_t *ip, uint16_t total_len, uint8_t protocol)
{
  uint32_t hlen = (ip[0] & 0xf) * 4;
  ipcomp_put_u16 (ip + 2, total_len);
  ip[9] = protocol;
  ipcomp_put_u16 (ip + 10, ipcomp_ip4_checksum (ip, hlen));
}

/* Build an option-less outer IPv4 header */
static inline void
ipcomp_ip4_build (uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t protocol,
		  uint8_t ttl, uint8_t tos, uint16_t id, uint16_t total_len)
{
  ip[0] = 0x45;
  ip[1] = tos;
  ipcomp_put_u16 (ip + 2, total_len);
  ipcomp_put_u16 (ip + 4, id);
  ip[6] = 0; /* no DF: the outer packet may be fragmented on the path */
  ip[7] = 0;
  ip[8] = ttl;
  ip[9] = protocol;
  memcpy (ip + 12, src, 4);
  memcpy (ip + 16, dst, 4);
  ipcomp_put_u16 (ip + 10, ipcomp_ip4_checksum (ip, IPCOMP_IP4_HDR_LEN));
}

/* Build an outer IPv6 header */
static inline void
ipcomp_ip6_build (uint8_t *ip, const uint8_t *src, const uint8_t *dst, uint8_t next_header,
		  uint8_t hop_limit, uint8_t tclass, uint16_t payload_len)
{
  ip[0] = 0x60 | (tclass >> 4);
  ip[1] = (uint8_t) (tclass << 4);
  ip[2] = 0;
  ip[3] = 0;
  ipcomp_put_u16 (ip + 4, payload_len);
  ip[6] = next_header;
  ip[7] = hop_limit;
  memcpy (ip + 8, src, 16);
  memcpy (ip + 24, dst, 16);
}

static inline void
ipcomp_ip6_fixup (uint8_t *ip, uint16_t payload_len, uint8_t next_header)
{
  ipcomp_put_u16 (ip + 4, payload_len);
  ip[6] = next_header;
}

/* What the receive path needs to know about the outer header */
typedef struct
{
  uint32_t hdr_len;    /* bytes of IP header (IHL*4 or 40) */
  uint32_t packet_len; /* total packet length according to the header */
  uint8_t protocol;    /* protocol / next header */
} ipcomp_ip_info_t;

static inline int
ipcomp_ip4_parse (const uint8_t *p, uint32_t buf_len, ipcomp_ip_info_t *info)
{
  uint32_t hlen, tlen;
  if (buf_len < IPCOMP_IP4_HDR_LEN)
    return IPCOMP_WIRE_TRUNCATED;
  if ((p[0] >> 4) != 4)
    return IPCOMP_WIRE_BAD_HEADER;
  hlen = (p[0] & 0xf) * 4;
  tlen = ipcomp_get_u16 (p + 2);
  if (hlen < IPCOMP_IP4_HDR_LEN || tlen < hlen)
    return IPCOMP_WIRE_BAD_HEADER;
  if (buf_len < hlen || buf_len < tlen)
    return IPCOMP_WIRE_TRUNCATED;
  /* more-fragments set or a non-zero offset */
  if (ipcomp_get_u16 (p + 6) & 0x3fff)
    return IPCOMP_WIRE_FRAGMENT;
  info->hdr_len = hlen;
  info->packet_len = tlen;
  info->protocol = p[9];
  return IPCOMP_WIRE_OK;
}

static inline int
ipcomp_ip6_parse (const uint8_t *p, uint32_t buf_len, ipcomp_ip_info_t *info)
{
  uint32_t plen;
  if (buf_len < IPCOMP_IP6_HDR_LEN)
    return IPCOMP_WIRE_TRUNCATED;
  if ((p[0] >> 4) != 6)
    return IPCOMP_WIRE_BAD_HEADER;
  plen = ipcomp_get_u16 (p + 4);
  if (buf_len < IPCOMP_IP6_HDR_LEN + plen)
    return IPCOMP_WIRE_TRUNCATED;
  if (p[6] == 44)
    return IPCOMP_WIRE_FRAGMENT;
  info->hdr_len = IPCOMP_IP6_HDR_LEN;
  info->packet_len = IPCOMP_IP6_HDR_LEN + plen;
  info->protocol = p[6];
  return IPCOMP_WIRE_OK;
}

/* Tunnel mode: after decompression the data must be a whole IP packet of the
 * family the IPComp next header announced, with a length that matches. */
static inline int
ipcomp_inner_check (uint8_t next_header, const uint8_t *p, uint32_t len)
{
  if (next_header == IPCOMP_PROTO_IPIP)
    {
      if (len < IPCOMP_IP4_HDR_LEN || (p[0] >> 4) != 4 || (p[0] & 0xf) < 5)
	return IPCOMP_WIRE_BAD_INNER;
      if (ipcomp_get_u16 (p + 2) != len)
	return IPCOMP_WIRE_BAD_INNER;
      return IPCOMP_WIRE_OK;
    }
  if (next_header == IPCOMP_PROTO_IPV6)
    {
      if (len < IPCOMP_IP6_HDR_LEN || (p[0] >> 4) != 6)
	return IPCOMP_WIRE_BAD_INNER;
      if ((uint32_t) ipcomp_get_u16 (p + 4) + IPCOMP_IP6_HDR_LEN != len)
	return IPCOMP_WIRE_BAD_INNER;
      return IPCOMP_WIRE_OK;
    }
  return IPCOMP_WIRE_BAD_INNER;
}

/* RFC 3173 policy on the send side: returns the room for compressed data
 * that makes compressing worthwhile, 0 when the payload is below the
 * threshold (send as is).  The IPComp header plus data must be strictly
 * smaller than the original payload. */
static inline uint32_t
ipcomp_compress_budget (uint32_t payload_len, uint32_t threshold)
{
  if (payload_len < threshold || payload_len <= IPCOMP_HEADER_LEN + 1)
    return 0;
  return payload_len - IPCOMP_HEADER_LEN - 1;
}

#endif /* included_ipcomp_wire_h */
