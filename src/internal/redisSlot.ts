/*
 * The hash slot of a key in a Redis Cluster: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the
 * key's bytes, or of its hash tag (the bytes between the first `{` and the next `}`, when there
 * are any), modulo 16384. The store uses it to give each master its own circuit breaker.
 */

const CRC16 = (() => {
  const table = new Uint16Array(256)
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[byte] = crc
  }
  return table
})()

const OPEN = 0x7b // {
const CLOSE = 0x7d // }

export const slotOf = (key: string): number => {
  const bytes = Buffer.from(key, "utf8")
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(OPEN)
  if (open >= 0) {
    const close = bytes.indexOf(CLOSE, open + 1)
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ bytes[i]!) & 0xff]!
  return crc % 16_384
}
