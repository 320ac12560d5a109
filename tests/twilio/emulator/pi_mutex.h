/* Twilio emulator — a mutex with priority inheritance.
 *
 * The emulator thread may run with SCHED_FIFO (see EmulatorThread). When it has to take a lock
 * that a normal-priority reader holds (a test reading a report), plain mutexes let any busy
 * process on the machine delay the emulator's clock: priority inversion. With PTHREAD_PRIO_INHERIT
 * the holder runs at the waiter's priority until it lets go. Use with std::condition_variable_any. */
#pragma once

#include <pthread.h>

namespace clawvoice::test::twilio_emu {

class PiMutex {
 public:
  PiMutex()
  {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~PiMutex() { pthread_mutex_destroy(&mutex_); }
  PiMutex(const PiMutex &) = delete;
  PiMutex &operator=(const PiMutex &) = delete;

  void lock() { pthread_mutex_lock(&mutex_); }
  void unlock() { pthread_mutex_unlock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }

 private:
  pthread_mutex_t mutex_;
};

}  // namespace clawvoice::test::twilio_emu
