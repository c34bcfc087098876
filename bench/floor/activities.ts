export const floorActivities = {
  noop(orderId: string): Promise<string> {
    return Promise.resolve(orderId);
  },
};
export type FloorActivities = typeof floorActivities;
