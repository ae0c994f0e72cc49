/* server/core/initializers/database.ts: the Sequelize instance (managed transactions). */
import { Transaction } from 'sequelize'

export declare const sequelizeTypescript: {
  transaction<T>(autoCallback: (t: Transaction) => PromiseLike<T>): Promise<T>
}
