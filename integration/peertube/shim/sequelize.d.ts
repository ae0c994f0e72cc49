/* sequelize: the Transaction the adapter passes around. */
export interface Transaction {
  commit(): Promise<void>
  rollback(): Promise<void>
  afterCommit(fn: (transaction: Transaction) => void | Promise<void>): void
}
