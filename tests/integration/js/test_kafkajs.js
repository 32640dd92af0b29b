#!/usr/bin/env node
// Integration test: kafkajs 2.2.4 (pure JavaScript, its own protocol code,
// unrelated to librdkafka) against `sluice broker`, which this script starts
// on 127.0.0.1 (port 0) with a temporary data folder and always kills.
// Admin createTopics/listTopics/fetchTopicOffsets, a producer with acks=-1
// (plain and gzip), and a consumer group reading everything back.
//
// usage: node test_kafkajs.js PATH_TO_SLUICE [CASE...]
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

class TestFailure extends Error {}
function check(cond, msg) { if (!cond) throw new TestFailure(msg); }
function checkEq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new TestFailure(`${what}: got ${g}, expected ${w}`);
}

// ---- the broker --------------------------------------------------------------
class Broker {
  constructor(sluice, dir) {
    this.sluice = sluice;
    this.data = path.join(dir, 'data');
    this.logPath = path.join(dir, 'broker.stderr');
    this.port = 0;
    this.proc = null;
  }
  get bootstrap() { return `127.0.0.1:${this.port}`; }
  start() {
    const log = fs.openSync(this.logPath, 'a');
    const startAt = fs.fstatSync(log).size;
    this.proc = spawn(this.sluice, ['broker', '--data', this.data, '--listen', `127.0.0.1:${this.port}`],
                      { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const proc = this.proc;
    let exited = null;
    proc.on('exit', (code, sig) => { exited = sig || code; });
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 15000;
      const poll = () => {
        const text = fs.readFileSync(this.logPath, 'utf8').slice(startAt);
        const m = /listening on [^ ]*:(\d+)/.exec(text);
        if (m) { this.port = Number(m[1]); return resolve(this); }
        if (exited !== null) return reject(new TestFailure(`broker exited (${exited}) before listening`));
        if (Date.now() > deadline) return reject(new TestFailure('broker not listening after 15 s'));
        setTimeout(poll, 20);
      };
      poll();
    });
  }
  kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    this.proc = null;
  }
  stderr() { try { return fs.readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; } }
}

// kafkajs logs expected errors (e.g. TOPIC_ALREADY_EXISTS) too: quiet unless
// SL_IT_VERBOSE=1.
function client(b, retries = 8) {
  return new Kafka({ clientId: 'sluice-kafkajs-test', brokers: [b.bootstrap],
                     logLevel: process.env.SL_IT_VERBOSE === '1' ? logLevel.INFO : logLevel.NOTHING,
                     retry: { retries, initialRetryTime: 100 } });
}

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new TestFailure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- cases -------------------------------------------------------------------
async function test_admin_creates_and_lists_topics(b) {
  const admin = client(b).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ waitForLeaders: true, topics: [
      { topic: 'js-orders', numPartitions: 3, replicationFactor: 1 },
      { topic: 'js-audit', numPartitions: 1, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '3600000' }] },
    ] });
    checkEq(created, true, 'createTopics result');
    // kafkajs answers false (not an exception) for a topic that exists.
    checkEq(await admin.createTopics({ topics: [{ topic: 'js-orders', numPartitions: 3 }] }), false,
            'createTopics of an existing topic');
    let err = null;
    try {
      await admin.createTopics({ topics: [{ topic: 'js-triple', numPartitions: 1, replicationFactor: 3 }] });
    } catch (e) { err = e; }
    check(err, 'replication factor 3 on one broker was accepted');
    const detail = (err.errors || [err]).map((e) => e.type || e.message).join(',');
    check(/INVALID_REPLICATION_FACTOR/.test(detail), `replication factor 3 error: ${detail}`);
    checkEq((await admin.listTopics()).sort(), ['js-audit', 'js-orders'], 'listTopics');
    const md = await admin.fetchTopicMetadata({ topics: ['js-orders'] });
    checkEq(md.topics[0].partitions.map((p) => [p.partitionId, p.leader]).sort(), [[0, 0], [1, 0], [2, 0]],
            'partitions and leaders of js-orders');
    await admin.deleteTopics({ topics: ['js-audit'] });
    checkEq(await admin.listTopics(), ['js-orders'], 'listTopics after deleteTopics');
  } finally {
    await admin.disconnect();
  }
}

async function test_producer_acks_all_offsets_match_watermarks(b) {
  const kafka = client(b);
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'js-acks', numPartitions: 2 }] });
    const acked = { 0: [], 1: [] };
    for (let round = 0; round < 10; round++) {
      const compression = round % 2 ? CompressionTypes.GZIP : CompressionTypes.None;
      const messages = [];
      for (let i = 0; i < 100; i++) messages.push({ key: `k${round}-${i}`, value: `v${round}-${i}`, partition: i % 2 });
      const meta = await producer.send({ topic: 'js-acks', acks: -1, compression, messages });
      for (const m of meta) {
        checkEq(m.errorCode, 0, `errorCode for partition ${m.partition}`);
        acked[m.partition].push(Number(m.baseOffset));
      }
    }
    // Each send appends 50 records per partition: base offsets 0, 50, 100, ...
    for (const p of [0, 1]) checkEq(acked[p], [...Array(10).keys()].map((i) => i * 50), `base offsets of partition ${p}`);
    const offs = await admin.fetchTopicOffsets('js-acks');
    checkEq(offs.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '0', '500'], [1, '0', '500']],
            'watermarks after 1,000 records');
    const once = client(b, 1).producer({ allowAutoTopicCreation: false });
    await once.connect();
    let err = null;
    try {
      await once.send({ topic: 'js-nosuch', acks: -1, messages: [{ value: 'x' }] });
    } catch (e) { err = e; }
    await once.disconnect();
    check(err, 'producing to an unknown topic without auto-creation succeeded');
    check(/does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/.test(String(err)), `error: ${err}`);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

async function test_consumer_group_reads_everything(b) {
  const kafka = client(b);
  const admin = kafka.admin();
  const producer = kafka.producer();
  await admin.connect();
  await producer.connect();
  const want = new Map();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'js-group', numPartitions: 3 }] });
    const messages = [];
    for (let i = 0; i < 3000; i++) {
      messages.push({ key: `key-${i}`, value: `value-${i}` });
      want.set(`key-${i}`, `value-${i}`);
    }
    for (let i = 0; i < messages.length; i += 500)
      await producer.send({ topic: 'js-group', acks: -1, messages: messages.slice(i, i + 500) });
  } finally {
    await producer.disconnect();
  }
  const seen = new Map();
  const consumer = kafka.consumer({ groupId: 'js-group-1', sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: ['js-group'], fromBeginning: true });
    let dup = null;
    await consumer.run({ eachMessage: async ({ message }) => {
      const k = message.key.toString();
      if (seen.has(k)) dup = k;
      seen.set(k, message.value.toString());
    } });
    await waitFor(() => seen.size >= want.size, 45000, `${want.size} records (have ${seen.size})`);
    check(dup === null, `record ${dup} was delivered twice`);
    for (const [k, v] of want) checkEq(seen.get(k), v, `value of ${k}`);
  } finally {
    await consumer.disconnect(); // commits what was consumed
  }
  // The group's committed offsets cover everything that was read.
  const committed = await admin.fetchOffsets({ groupId: 'js-group-1', topics: ['js-group'] });
  const total = committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0);
  checkEq(total, want.size, 'sum of committed offsets');
  await admin.disconnect();
}

const CASES = [
  test_admin_creates_and_lists_topics,
  test_producer_acks_all_offsets_match_watermarks,
  test_consumer_group_reads_everything,
];

// ---- runner --------------------------------------------------------------------
async function main() {
  const sluice = process.argv[2];
  if (!sluice || !fs.existsSync(sluice)) {
    console.error('usage: node test_kafkajs.js PATH_TO_SLUICE [CASE...]');
    process.exit(2);
  }
  const only = new Set(process.argv.slice(3));
  let passed = 0, failed = 0;
  const live = [];
  const killAll = () => { for (const b of live) b.kill(); };
  process.on('exit', killAll);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { killAll(); process.exit(1); });
  for (const fn of CASES) {
    if (only.size && !only.has(fn.name)) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-it-js-'));
    const b = new Broker(path.resolve(sluice), dir);
    live.push(b);
    const t0 = Date.now();
    let error = null;
    try {
      await b.start();
      await Promise.race([fn(b), new Promise((_, rej) => setTimeout(() => rej(new TestFailure('case took over 50 s')), 50000).unref())]);
    } catch (e) {
      error = e;
    }
    b.kill();
    if (!error) {
      console.log(`PASS ${fn.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      passed++;
      fs.rmSync(dir, { recursive: true, force: true });
    } else {
      failed++;
      console.log(`FAIL ${fn.name}: ${error instanceof TestFailure ? error.message : error.stack}`);
      console.log(`---- broker stderr ----\n${b.stderr().split('\n').slice(-200).join('\n')}---- end of broker stderr ----`);
      console.log(`     (files kept in ${dir})`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
