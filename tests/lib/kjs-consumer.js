// SPDX-License-Identifier: Apache-2.0
// A KafkaJS consumer-group member for integration tests, run with node.
//
//   node kjs-consumer.js BOOTSTRAP TOPIC GROUP [RACK]
//
// Prints one line per event on stdout:
//   fetch HOST:PORT        a Fetch request answered by that broker
//   msg PARTITION OFFSET VALUE8   a message (the first 8 bytes of its value)
// KafkaJS is found through $KAFKAJS (a path to the package) or the usual
// module lookup (.ci/deps installs it under /opt/skald-test).
// metadataMaxAge is short, so a preferred read replica (KIP-392) is
// asked for again every 2 s, as the client's own lease allows.
'use strict'

const kafkajs = require(process.env.KAFKAJS || 'kafkajs')
const [bootstrap, topic, group, rack] = process.argv.slice(2)

const kafka = new kafkajs.Kafka({
  clientId: 'kjs-consumer',
  brokers: bootstrap.split(','),
  logLevel: kafkajs.logLevel.ERROR,
  retry: { retries: 1000, maxRetryTime: 2000 },
})
const consumer = kafka.consumer({
  groupId: group,
  rackId: rack || undefined,
  metadataMaxAge: 2000,
  sessionTimeout: 30000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 500,
})

consumer.on(consumer.events.REQUEST, (e) => {
  if (e.payload.apiName === 'Fetch') process.stdout.write(`fetch ${e.payload.broker}\n`)
})

async function main () {
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(`msg ${partition} ${message.offset} ${message.value.slice(0, 8).toString()}\n`)
    },
  })
}

process.on('SIGTERM', () => consumer.disconnect().then(() => process.exit(0)))
main().catch((e) => {
  process.stderr.write(`kjs-consumer: ${e.stack || e}\n`)
  process.exit(1)
})
