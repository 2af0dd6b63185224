/** What a file store counts of its own IO (the benchmarks and the restart test read it). */
export interface FsStoreStats {
  /** Item bytes read to hash, fold or serve (excluding tail checks). */
  bytesRead: number;
  /** Bytes read to check or record a log's tail fingerprint (at most 4 KiB each). */
  tailBytesRead: number;
  /** Bytes fed to SHA-256 or LineChain. */
  bytesHashed: number;
  /** fsync/fdatasync calls, files, directories and journals alike. */
  fsyncs: number;
}
