// SPDX-License-Identifier: Apache-2.0
// KafkaJS's idempotent and transactional producers, for integration tests,
// run with node:
//
//   node kjs-eos.js BOOTSTRAP TOPIC GROUP
//
// Writes to TOPIC (3 partitions), printing one line per step on stdout:
//   idem N                 N records sent by an idempotent producer
//                          ("idem-<i>", acks=all)
//   txn I commit|abort     transaction I of 10 records ("txn-<I>-<k>")
//                          ended so
//   offsets OFFSET commit|abort   a transaction that sent GROUP's offset
//                          OFFSET for TOPIC partition 0 (sendOffsets) and
//                          one record ("ofs-<OFFSET>"), ended so
//   done
// KafkaJS is found through $KAFKAJS (a path to the package) or the usual
// module lookup (.ci/deps installs it under /opt/skald-test).
'use strict'

const kafkajs = require(process.env.KAFKAJS || 'kafkajs')
const [bootstrap, topic, group] = process.argv.slice(2)

const kafka = new kafkajs.Kafka({
  clientId: 'kjs-eos',
  brokers: bootstrap.split(','),
  logLevel: kafkajs.logLevel.ERROR,
  retry: { retries: 20, maxRetryTime: 5000 },
})

function say (line) {
  process.stdout.write(line + '\n')
}

async function idempotent () {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  let n = 0

  await p.connect()
  for (let b = 0; b < 30; b++) {
    const messages = []
    for (let k = 0; k < 10; k++, n++) {
      messages.push({ value: `idem-${n}`, partition: n % 3 })
    }
    await p.send({ topic, acks: -1, messages })
  }
  await p.disconnect()
  say(`idem ${n}`)
}

async function transactional () {
  const p = kafka.producer({
    transactionalId: 'kjs-eos-txn',
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60000,
  })

  await p.connect()
  for (let i = 0; i < 10; i++) {
    const txn = await p.transaction()
    const messages = []

    for (let k = 0; k < 10; k++) {
      messages.push({ value: `txn-${i}-${k}`, partition: k % 3 })
    }
    await txn.send({ topic, messages })
    if (i % 3 === 1) {
      await txn.abort()
      say(`txn ${i} abort`)
    } else {
      await txn.commit()
      say(`txn ${i} commit`)
    }
  }
  for (const [offset, commit] of [[42, true], [99, false]]) {
    const txn = await p.transaction()

    await txn.send({ topic, messages: [{ value: `ofs-${offset}`, partition: 1 }] })
    await txn.sendOffsets({
      consumerGroupId: group,
      topics: [{ topic, partitions: [{ partition: 0, offset: String(offset) }] }],
    })
    if (commit) {
      await txn.commit()
    } else {
      await txn.abort()
    }
    say(`offsets ${offset} ${commit ? 'commit' : 'abort'}`)
  }
  await p.disconnect()
}

async function main () {
  await idempotent()
  await transactional()
  say('done')
}

main().catch((e) => {
  process.stderr.write(`kjs-eos: ${e.stack || e}\n`)
  process.exit(1)
})
