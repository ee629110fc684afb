/** A query extension that only passes every operation on: the simplest other link in a chain. */
export const passThrough = {
  name: 'passThrough',
  query: {
    $allModels: {
      $allOperations: ({ args, query }: { args: unknown; query: (a: unknown) => Promise<unknown> }) => query(args),
    },
  },
} as const
