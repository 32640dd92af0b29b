/* Kafka's default partitioner for keyed records: murmur2 with Kafka's seed,
 * made positive, modulo the partition count.  The runtime routes sink and
 * repartition records with it so that a key lands in the same partition as a
 * Java or librdkafka producer would put it (co-partitioning with their data). */
#include "engine/engine.h"

int32_t sl_murmur2(const void *key, size_t len)
{
    const uint8_t *p = key;
    const uint32_t m = 0x5bd1e995u, seed = 0x9747b28cu;
    uint32_t h = seed ^ (uint32_t)len;
    size_t n4 = len / 4;
    for (size_t i = 0; i < n4; i++) {
        const uint8_t *q = p + 4 * i; /* little-endian words, as Kafka reads them */
        uint32_t k = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = p + 4 * n4;
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t sl_partition_for_key(const void *key, size_t len, int32_t partitions)
{
    if (partitions <= 1) /* one partition: every key's (no hash to compute) */
        return 0;
    return (int32_t)(((uint32_t)sl_murmur2(key, len) & 0x7fffffffu) % (uint32_t)partitions);
}
